/**
 * bin/inputs.cjs: the one answer to "has an input changed since it was stamped" that the build, its bundles and
 * the startup snapshots (when built and when started) share. Real files in a temporary directory.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Inputs = [string, number | undefined][];
const { changedInput, lockHash } = require('../../../bin/inputs.cjs') as {
  changedInput: (root: string, inputs: Inputs, lockHash: string | undefined, mtimeOf?: (rel: string) => number | undefined) => string;
  lockHash: (root: string) => string;
};

const LOCK = '{"name":"fixture","lockfileVersion":3,"packages":{}}\n';
let root: string;
const file = (rel: string): string => path.join(root, rel);
const stamp = (): Inputs => ['a.ts', 'lib/b.ts', 'package-lock.json'].map((rel) => [rel, statSync(file(rel)).mtimeMs]);
/** Moves a file's mtime a minute ahead, as an editor's save (later than the stamp) does. */
const touch = (rel: string): void => {
  const later = new Date(statSync(file(rel)).mtimeMs + 60_000);
  utimesSync(file(rel), later, later);
};

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'inputs-'));
  mkdirSync(file('lib'));
  writeFileSync(file('a.ts'), 'export const a = 1;\n');
  writeFileSync(file('lib/b.ts'), 'export const b = 2;\n');
  writeFileSync(file('package-lock.json'), LOCK);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('nothing changed: ""', () => {
  expect(changedInput(root, stamp(), lockHash(root))).toBe('');
});

test('a file whose mtime moved is named', () => {
  const stamped = stamp();
  touch('lib/b.ts');
  expect(changedInput(root, stamped, lockHash(root))).toBe('lib/b.ts changed');
});

test('a removed file is named', () => {
  const stamped = stamp();
  rmSync(file('a.ts'));
  expect(changedInput(root, stamped, lockHash(root))).toBe('a.ts is gone');
});

test('a file the stamp has no mtime for counts as changed', () => {
  expect(changedInput(root, [['a.ts', undefined]], lockHash(root))).toBe('a.ts changed');
});

test('the lockfile rewritten with the same content is unchanged', () => {
  const stamped = stamp();
  const hash = lockHash(root);
  writeFileSync(file('package-lock.json'), LOCK);
  touch('package-lock.json');
  expect(changedInput(root, stamped, hash)).toBe('');
});

test('the lockfile with another content is named', () => {
  const stamped = stamp();
  const hash = lockHash(root);
  writeFileSync(file('package-lock.json'), LOCK.replace('fixture', 'fixture-2'));
  touch('package-lock.json');
  expect(lockHash(root)).not.toBe(hash);
  expect(changedInput(root, stamped, hash)).toBe('package-lock.json changed');
});

test('a touched lockfile against a stamp without its hash is named', () => {
  const stamped = stamp();
  touch('package-lock.json');
  expect(changedInput(root, stamped, undefined)).toBe('package-lock.json changed');
});

test('mtimeOf replaces the stat: the stamp of a build compares, not the file as it is now', () => {
  const stamped = stamp();
  const built = new Map(stamped);
  touch('a.ts');
  expect(changedInput(root, stamped, lockHash(root), (rel) => built.get(rel))).toBe('');
  expect(changedInput(root, stamped, lockHash(root), (rel) => (rel === 'lib/b.ts' ? undefined : built.get(rel)))).toBe('lib/b.ts is gone');
});
