import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ZiggieConfig } from './schema';

export const EXAMPLE_CONFIG = path.join(__dirname, 'ziggie.example.yaml');

/** Every problem in a config file, one `config error: <yaml.path>: <problem>` line each. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.map((p) => `config error: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** The file `ZIGGIE_CONFIG` names, or the example config. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.ZIGGIE_CONFIG || EXAMPLE_CONFIG);
}

export function loadConfig(file: string = configPath()): ZiggieConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = '<config>'): ZiggieConfig {
  const lines = new LineCounter();
  const { doc, value } = readYaml(text, file, lines);
  const result = configSchema.safeParse(value ?? {}, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(file, describeIssues(result.error.issues, doc, lines));
}

/** A config has no use for more aliases than this; the yaml library's own cap stops a "billion laughs" file. */
export const MAX_ALIAS_COUNT = 100;

/**
 * The YAML document and its value. Anything the yaml library throws (an alias bomb is a ReferenceError from
 * toJS, a stack overflow from deep nesting a RangeError) becomes a ConfigError line, never a stack trace.
 */
function readYaml(text: string, file: string, lines: LineCounter): { doc: Document; value: unknown } {
  try {
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(file, doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${at ? `line ${at.line} col ${at.col}` : '(document)'}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
      }));
    }
    return { doc, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const why = e instanceof ReferenceError && /alias/i.test(e.message)
      ? `more than ${MAX_ALIAS_COUNT} alias expansions (a YAML alias bomb?): refused`
      : `YAML: ${(e as Error).message?.split('\n')[0] ?? String(e)}`;
    throw new ConfigError(file, [`${file}: ${why}`]);
  }
}

/**
 * One line per problem. A misspelt key shows up twice in zod's issues (the typo is unknown, the real key is
 * missing): report it once, as the typo, with the key that was meant.
 */
function describeIssues(issues: z.core.$ZodIssue[], doc: Document, lines: LineCounter): string[] {
  const missing = new Map<string, z.core.$ZodIssue>();
  for (const issue of issues) {
    if (issue.code !== 'custom' && issue.input === undefined) missing.set(formatPath(issue.path), issue);
  }
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const meant = [...missing.keys()].find((p) => p.startsWith(prefixOf(issue.path)) && isTypo(key, lastKey(p)));
        if (meant) missing.delete(meant);
        const hint = meant ? `did you mean ${lastKey(meant)}?` : 'allowed keys are listed in config/schema.ts';
        const at = [...issue.path, key];
        out.push(`${formatPath(at)}: unknown key${where(doc, lines, at)} (${hint})`);
      }
    }
  }
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') continue;
    const key = formatPath(issue.path);
    if (missing.get(key) === issue) out.push(`${key}: required`);
    else if (!(issue.code !== 'custom' && issue.input === undefined)) {
      out.push(`${key}: ${issue.message}${where(doc, lines, issue.path)}`);
    }
  }
  return out;
}

function prefixOf(p: readonly PropertyKey[]): string {
  return p.length === 0 ? '' : `${formatPath(p)}.`;
}

function lastKey(p: string): string {
  return p.slice(p.lastIndexOf('.') + 1);
}

/** At most two single-character edits apart (Levenshtein), case-insensitively. */
function isTypo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (Math.abs(x.length - y.length) > 2) return false;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length] <= 2;
}

/** `network.publicSubnetCidrs[1]` — the path as a YAML reader would write it. */
export function formatPath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return '(top level)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function where(doc: Document, lines: LineCounter, p: readonly PropertyKey[]): string {
  let node: unknown;
  try {
    node = doc.getIn(p as unknown[], true);
  } catch {
    return '';
  }
  if (!isNode(node) || !node.range) return '';
  return ` (line ${lines.linePos(node.range[0]).line})`;
}
