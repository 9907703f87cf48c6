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
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => {
      const at = e.linePos?.[0];
      return `${at ? `line ${at.line} col ${at.col}` : '(document)'}: ${e.message.split('\n')[0]}`;
    }));
  }
  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(issue, doc, lines)));
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const at = [...issue.path, key];
      return `${formatPath(at)}: unknown key${where(doc, lines, at)} (allowed keys are listed in config/schema.ts)`;
    });
  }
  const problem = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
  return [`${formatPath(issue.path)}: ${problem}${where(doc, lines, issue.path)}`];
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
