// Three tiers: unit (pure, fast), terraform (real terraform + offline provider), testhost (real Debian host).
// A tier whose engine is missing prints "SKIPPED: <tier>: <reason>" instead of passing silently.
// Sources are CommonJS with node16 resolution, so a lazy `await import('./x.js')` names the .js file; under jest it
// becomes require('./x') (jest has no native import() without --experimental-vm-modules).
const tsJest = ['ts-jest', { diagnostics: false, tsconfig: { module: 'commonjs', moduleResolution: 'node10' } }];
const common = {
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // jest's 5 s default fails tests that start a CLI or python3 when the 2-core CI machine is loaded (.ci/run runs
  // the unit and testhost tiers at once); a test that hangs still fails, after a minute. Suites may set more.
  // (A global option: inside a project jest ignores it with a warning.)
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'terraform', testMatch: ['<rootDir>/test/terraform/**/*.test.ts'] },
    { ...common, displayName: 'testhost', testMatch: ['<rootDir>/test/testhost/**/*.test.ts'] },
  ],
};
