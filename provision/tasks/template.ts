/**
 * template: content rendered from typed data, then handled exactly like copy (diffable, atomic).
 *
 * The typed way is a function: template({ dest, data: { port: 80 }, render: (d) => `listen ${d.port};\n` }).
 * A string (inline or a local file) may use {{ key }} / {{ a.b.c }} placeholders; a missing key is an error,
 * never an empty string.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { absolute, anyString, attrs, bool, common, func, parseOptions, str } from '../options';
import { fileStat } from '../facts/file';
import { absPath, type FileAttrs } from '../files';
import { Secret } from '../secret';
import { defineTask, type Task, type TaskOptions } from '../task';
import { planContent } from './copy';

export interface TemplateOptions<T> extends TaskOptions, FileAttrs {
  dest: string;
  data: T;
  /** a render function (typed), an inline {{ }} template string, or ... */
  render?: ((data: T) => string) | string;
  /** ... a local template file with {{ }} placeholders */
  src?: string;
  backup?: boolean;
  validate?: string;
}

function lookup(data: unknown, path: string, where: string): unknown {
  let cur: unknown = data;
  for (const k of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || !(k in (cur as object)))
      throw new Error(`${where}: no value for {{ ${path} }}`);
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Render {{ a.b }} placeholders. Secrets are revealed into the output (redaction happens on display). */
export function renderString(tpl: string, data: unknown, where = 'template'): string {
  return tpl.replace(/\{\{\s*([A-Za-z_][\w]*(?:\.[\w]+)*)\s*\}\}/g, (_, path: string) => {
    const v = lookup(data, path, where);
    if (v instanceof Secret) return v.reveal();
    if (v === null || v === undefined) throw new Error(`${where}: {{ ${path} }} is ${v}`);
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  });
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  dest: absolute,
  data: z.unknown(),
  render: z.optional(z.union([func, anyString])),
  src: z.optional(str),
  backup: z.optional(bool),
  validate: z.optional(str),
});

export function template<T>(opts: TemplateOptions<T>): Task {
  parseOptions('template', schema, opts, { oneOf: [['render', 'src']] });
  const o = opts;
  const dest = absPath(o.dest, 'dest');
  const render = (): Buffer => {
    if (typeof o.render === 'function') return Buffer.from(o.render(o.data), 'utf8');
    let tpl = o.render as string | undefined;
    if (tpl === undefined) {
      try {
        tpl = readFileSync(o.src!, 'utf8');
      } catch (e) {
        throw new Error(`template ${dest}: cannot read ${o.src}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
    return Buffer.from(renderString(tpl, o.data, `template ${o.src ?? dest}`), 'utf8');
  };
  return defineTask('template', `template ${dest}`, o, {
    facts: { cur: fileStat(dest) },
    plan: ({ cur }) => planContent(cur, dest, render(), o),
  });
}
