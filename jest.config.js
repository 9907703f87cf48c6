// Three tiers: unit (pure, fast), terraform (real terraform + offline provider), testhost (real Debian host).
// A tier whose engine is missing prints "SKIPPED: <tier>: <reason>" instead of passing silently.
const tsJest = ['ts-jest', { diagnostics: false }];
const common = { transform: { '^.+\\.ts$': tsJest }, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'terraform', testMatch: ['<rootDir>/test/terraform/**/*.test.ts'] },
    { ...common, displayName: 'testhost', testMatch: ['<rootDir>/test/testhost/**/*.test.ts'] },
  ],
};
