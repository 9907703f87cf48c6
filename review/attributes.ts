import { createTwoFilesPatch } from 'diff';
import type { AttributeChange } from './types';
import { MASK, isSensitivePath } from './mask';

const UNKNOWN = '(known after apply)';

interface Leaf {
  readonly display: string;
  readonly sensitive: boolean;
  readonly unknown: boolean;
  /** Canonical pretty JSON when the value is a JSON document held in a string (IAM and bucket policies). */
  readonly document?: string;
}

export interface DiffOptions {
  /** Terraform's `before_sensitive` / `after_sensitive` trees (true = sensitive). */
  readonly beforeSensitive?: unknown;
  readonly afterSensitive?: unknown;
  /** Terraform's `after_unknown` tree (true = known only after apply). */
  readonly afterUnknown?: unknown;
  /** Attribute paths that force replacement (plan `replace_paths`, or the synth table). */
  readonly forcesReplacement?: (path: string) => boolean;
  /** Keys to leave out, e.g. cdktf's `//` metadata. */
  readonly ignoreKeys?: readonly string[];
}

/** A JSON object or array held in a string, e.g. an IAM policy; undefined for anything else. */
export function jsonDocument(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) return undefined;
  try {
    const parsed: unknown = JSON.parse(t);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

const sub = (tree: unknown, key: string | number): unknown =>
  tree === true ? true : typeof tree === 'object' && tree !== null ? (tree as Record<string, unknown>)[key] : undefined;

function flatten(value: unknown, sensitive: unknown, unknown: unknown, prefix: string, out: Map<string, Leaf>, ignore: readonly string[]): void {
  const isSensitive = sensitive === true || (prefix !== '' && isSensitivePath(prefix));
  if (unknown === true) {
    out.set(prefix, { display: UNKNOWN, sensitive: isSensitive, unknown: true });
    return;
  }
  if (isSensitive && value !== null && value !== undefined) {
    out.set(prefix, { display: MASK, sensitive: true, unknown: false });
    return;
  }
  if (Array.isArray(value) || (Array.isArray(unknown) && (value === null || value === undefined))) {
    const arr = Array.isArray(value) ? value : [];
    const len = Math.max(arr.length, Array.isArray(unknown) ? unknown.length : 0);
    if (len === 0) {
      if (Array.isArray(value) && prefix !== '') out.set(prefix, { display: '[]', sensitive: false, unknown: false });
      return;
    }
    for (let i = 0; i < len; i++) flatten(arr[i], sub(sensitive, i), sub(unknown, i), `${prefix}[${i}]`, out, ignore);
    return;
  }
  if ((typeof value === 'object' && value !== null) || (typeof unknown === 'object' && unknown !== null && (value === null || value === undefined))) {
    const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const keys = new Set([...Object.keys(obj), ...(typeof unknown === 'object' && unknown !== null ? Object.keys(unknown) : [])]);
    if (keys.size === 0 && prefix !== '') out.set(prefix, { display: '{}', sensitive: false, unknown: false });
    for (const key of [...keys].sort()) {
      if (ignore.includes(key)) continue;
      flatten(obj[key], sub(sensitive, key), sub(unknown, key), prefix === '' ? key : `${prefix}.${key}`, out, ignore);
    }
    return;
  }
  if (value === null || value === undefined) return; // null and absent are the same to a reviewer
  const doc = jsonDocument(value);
  if (doc !== undefined) {
    out.set(prefix, { display: displayValue(value), sensitive: false, unknown: false, document: JSON.stringify(canonical(doc), null, 2) });
    return;
  }
  out.set(prefix, { display: displayValue(value), sensitive: false, unknown: false });
}

export function flattenAttributes(value: unknown, options: { sensitive?: unknown; unknown?: unknown; ignoreKeys?: readonly string[] } = {}): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  flatten(value, options.sensitive, options.unknown, '', out, options.ignoreKeys ?? []);
  return out;
}

/** Attribute-level changes between two resource bodies, sensitive values masked, documents diffed line by line. */
export function diffAttributes(before: unknown, after: unknown, options: DiffOptions = {}): AttributeChange[] {
  const ignoreKeys = options.ignoreKeys ?? [];
  const b = flattenAttributes(before, { sensitive: options.beforeSensitive, ignoreKeys });
  const a = flattenAttributes(after, { sensitive: options.afterSensitive, unknown: options.afterUnknown, ignoreKeys });
  const changes: AttributeChange[] = [];
  for (const path of [...new Set([...b.keys(), ...a.keys()])].sort(comparePaths)) {
    const x = b.get(path);
    const y = a.get(path);
    const force = options.forcesReplacement?.(path) ? { forcesReplacement: true } : {};
    const sensitive = x?.sensitive || y?.sensitive ? { sensitive: true } : {};
    if (x && !y) {
      changes.push({ path, kind: 'removed', before: x.display, ...sensitive, ...force });
    } else if (!x && y) {
      changes.push({ path, kind: 'added', after: y.display, ...sensitive, ...force });
    } else if (x && y) {
      if (x.unknown || y.unknown) {
        if (y.unknown && !x.unknown) changes.push({ path, kind: 'changed', before: x.display, after: y.display, ...sensitive, ...force });
        continue;
      }
      if (x.sensitive || y.sensitive) {
        // Masked on either side: compare the real values' identity without revealing them.
        if (leafIdentity(before, path) !== leafIdentity(after, path)) changes.push({ path, kind: 'changed', before: MASK, after: MASK, sensitive: true, ...force });
        continue;
      }
      if (x.document !== undefined && y.document !== undefined) {
        if (x.document !== y.document) {
          changes.push({ path, kind: 'changed', before: x.display, after: y.display, documentDiff: documentDiff(path, x.document, y.document), ...force });
        }
        continue;
      }
      if (x.display !== y.display) changes.push({ path, kind: 'changed', before: x.display, after: y.display, ...force });
    }
  }
  return changes;
}

function leafIdentity(root: unknown, path: string): string {
  let node: unknown = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (typeof node !== 'object' || node === null) return 'undefined';
    node = (node as Record<string, unknown>)[part];
  }
  return JSON.stringify(node) ?? 'undefined';
}

/** Unified diff of two pretty-printed documents, headers stripped, with generous context. */
export function documentDiff(name: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(`base/${name}`, `head/${name}`, `${before}\n`, `${after}\n`, '', '', { context: 3 });
  return patch.split('\n').filter((l) => !/^(={3,}|-{3} |\+{3} |Index: |\\ No newline)/.test(l)).join('\n').trim();
}

/** `a[2].b` sorts after `a[10]`? No: numeric-aware ordering so lists read top to bottom. */
function comparePaths(x: string, y: string): number {
  return x.localeCompare(y, 'en', { numeric: true });
}

/** `[['root_block_device', 0, 'encrypted']]` → `root_block_device[0].encrypted`. */
export function pathFromSteps(steps: readonly (string | number)[]): string {
  return steps.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc === '' ? s : `${acc}.${s}`), '');
}

/** True when `path` is `prefix` or inside it. */
export function pathWithin(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}
