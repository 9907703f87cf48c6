/**
 * The layers of this repository, enforced by dependency-cruiser in `npm test` (docs/architecture.md draws them).
 *
 * A module may import its own layer and the layers BELOW it, never one above. A new top-level directory goes into
 * exactly one row of LAYERS; until it does, importing it (or importing from it) fails as "unlayered".
 */
const LAYERS = [
  { name: 'entry', dirs: ['main.ts', 'bin', 'scripts', 'bench'], why: 'entry points: thin scripts that parse argv and call a tool' },
  { name: 'tools', dirs: ['ops', 'review', 'ami', 'control', 'web', 'iam'], why: 'what a user runs: ops, PR review, AMI bake, control plane, the IAM simulation' },
  { name: 'composition', dirs: ['stacks', 'playbooks'], why: 'CDKTF stacks and playbooks: compose constructs / tasks' },
  { name: 'constructs', dirs: ['modules', 'lambda'], why: 'CDKTF constructs, and the Lambda code (with its bundling step) they deploy' },
  { name: 'libraries', dirs: ['provision', 'guardrails', 'gpu-control', 'cost', 'testhost'], why: 'libraries with no knowledge of the layers above' },
  { name: 'base', dirs: ['shared', 'config', 'package.json'], why: 'the leaf: shared types, names, signals, AWS error codes; the config schema; the package version' },
];

// An entry with an extension is one file at the top (main.ts), any other a directory.
const pathOf = (dirs) => `^(${dirs.map((d) => d.replace(/\./g, '\\.') + (/\.\w+$/.test(d) ? '$' : '/')).join('|')})`;
const ALL_LAYERED = pathOf(LAYERS.flatMap((l) => l.dirs));
const OUTSIDE = '^(node_modules|test)/';

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} (${layer.dirs.join(', ')}) may not import a layer above it: ${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: pathOf(layer.dirs) },
  to: { path: pathOf(LAYERS.slice(0, i + 1).flatMap((l) => l.dirs)) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'shared-is-a-leaf',
      comment: 'shared/ imports nothing of the project but the config schema (its types name the config)',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: ALL_LAYERED, pathNot: '^(shared/|config/schema\\.ts$)' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-in-production',
      comment: 'production code never imports test/ (a test helper that production needs moves to a library)',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'unlayered-import',
      comment: 'every imported project file lives in a layer: add its top-level directory to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { pathNot: OUTSIDE },
      to: { couldNotResolve: false, dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'], pathNot: `${ALL_LAYERED}|${OUTSIDE}` },
    },
    {
      name: 'unlayered-importer',
      comment: 'every project file that imports another lives in a layer: add its top-level directory to LAYERS',
      severity: 'error',
      from: { pathNot: `${ALL_LAYERED}|${OUTSIDE}` },
      to: { dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-resolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdktf\\.out|\\.cache|\\.build|coverage)/' },
    tsPreCompilationDeps: true,
    extraExtensionsToScan: ['.cjs'],
    // Resolve package subpaths through their exports map, as Node's require does (the MCP SDK has no other way in).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'import', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
