/** copy: a file's content (inline, from a local file, or rendered) and attributes; written atomically. */
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { absolute, anyString, attrs, bool, buffer, common, parseOptions, secretOr, str } from '../options';
import { fileStat, type FileState } from '../facts/file';
import { absPath, attrChanges, diffText, readRemoteFile, sha256, type FileAttrs } from '../files';
import { attrScript } from '../shell';
import { reveal, type Secret } from '../secret';
import { defineTask, run, write, type Plan, type Task, type TaskOptions } from '../task';

export interface CopyOptions extends TaskOptions, FileAttrs {
  dest: string;
  /** inline content (a Secret is written but never shown) */
  content?: string | Buffer | Secret;
  /** local file to upload (relative to the current directory) */
  src?: string;
  /** keep a timestamped copy of the previous version */
  backup?: boolean;
  /** command that must accept the new file before it is installed; %s is the temp file (e.g. "visudo -cf %s") */
  validate?: string;
}

/** Shared by copy, template, cron and others: plan "dest has exactly this content and these attributes". */
export function planContent(cur: FileState, dest: string, data: Buffer, o: FileAttrs & { backup?: boolean; validate?: string }): Plan {
  if (cur.type !== 'absent' && cur.type !== 'file') throw new Error(`${dest} exists and is a ${cur.type}, not a regular file`);
  const contentChanged = cur.type === 'absent' || cur.sha256 !== sha256(data);
  const attrs = cur.type === 'absent' ? [] : attrChanges(cur, o);
  if (!contentChanged && !attrs.length) return { changed: false };
  const msg = cur.type === 'absent' ? 'create' : [contentChanged ? 'content' : '', ...attrs].filter(Boolean).join(', ');
  return {
    changed: true,
    msg,
    diff: async (ctx) => {
      const items = [];
      if (contentChanged) {
        const before = cur.type === 'absent' ? null : await readRemoteFile(ctx, dest);
        items.push({ label: dest, before: diffText(before), after: diffText(data) });
      }
      if (attrs.length) items.push({ label: `${dest} attributes`, before: attrs.map((a) => a.split(' -> ')[0]).join('\n') + '\n', after: attrs.map((a) => a.split(' ')[0] + ' ' + a.split(' -> ')[1]).join('\n') + '\n' });
      return items;
    },
    steps: [
      contentChanged
        ? write(dest, data, { mode: o.mode, owner: o.owner, group: o.group, backup: o.backup, validate: o.validate })
        : run(attrScript(dest, o), `chmod/chown ${dest}`),
    ],
  };
}

export function toBuffer(content: string | Buffer | Secret): Buffer {
  if (Buffer.isBuffer(content)) return content;
  return Buffer.from(reveal(content as string | Secret), 'utf8');
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  dest: absolute,
  content: z.optional(z.union([secretOr(anyString), buffer])),
  src: z.optional(str),
  backup: z.optional(bool),
  validate: z.optional(str),
});

export function copy(opts: CopyOptions): Task {
  const o = parseOptions('copy', schema, opts, { oneOf: [['content', 'src']] });
  const dest = absPath(o.dest, 'dest');
  let data: Buffer | undefined;
  const load = (): Buffer => {
    if (data) return data;
    if (o.content !== undefined) data = toBuffer(o.content);
    else {
      try {
        data = readFileSync(o.src!);
      } catch (e) {
        throw new Error(`copy ${dest}: cannot read local src ${o.src}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
    return data;
  };
  return defineTask('copy', `copy ${dest}`, o, {
    facts: { cur: fileStat(dest) },
    plan: ({ cur }) => planContent(cur, dest, load(), o),
  });
}
