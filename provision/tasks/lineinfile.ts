/** lineInFile: make sure one line is (or is not) in a text file, Ansible lineinfile semantics. */
import * as z from 'zod/mini';
import { absolute, anyString, attrs, bool, common, optionError, parseOptions, regexOr, secretOr } from '../options';
import { fileContent, fileStat, type FileState } from '../facts/file';
import { absPath, attrChanges, type FileAttrs } from '../files';
import { reveal, type Secret } from '../secret';
import { defineTask, write, type Plan, type Task, type TaskOptions } from '../task';

export interface LineEdit {
  line?: string;
  /** the line(s) to replace (present) or remove (absent); default: lines equal to `line` */
  regexp?: RegExp | string;
  state?: 'present' | 'absent';
  /** where to add a new line: "EOF" (default) or after the last line matching this */
  insertAfter?: 'EOF' | RegExp | string;
  /** "BOF" or before the first line matching this */
  insertBefore?: 'BOF' | RegExp | string;
}

export interface LineInFileOptions extends TaskOptions, FileAttrs, Omit<LineEdit, 'line'> {
  path: string;
  line?: string | Secret;
  /** create the file if it is missing (default false: a missing file is an error) */
  create?: boolean;
  backup?: boolean;
}

const re = (r: RegExp | string): RegExp => (typeof r === 'string' ? new RegExp(r) : new RegExp(r.source, r.flags.replace('g', '')));

/** Pure edit: returns the new content (same string if nothing changes). */
export function editLine(content: string, e: LineEdit): string {
  const state = e.state ?? 'present';
  const hadNl = content === '' || content.endsWith('\n');
  const lines = content === '' ? [] : (hadNl ? content.slice(0, -1) : content).split('\n');
  const join = (ls: string[]): string => (ls.length ? ls.join('\n') + '\n' : '');
  const matcher = e.regexp !== undefined ? re(e.regexp) : undefined;
  const matches = (l: string): boolean => (matcher ? matcher.test(l) : l === e.line);
  if (state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    return kept.length === lines.length ? content : join(kept);
  }
  if (e.line === undefined) throw new Error('lineInFile: line is required with state present');
  const line = e.line;
  if (matcher) {
    let last = -1;
    lines.forEach((l, i) => {
      if (matcher.test(l)) last = i;
    });
    if (last >= 0) {
      if (lines[last] === line) return content;
      const out = [...lines];
      out[last] = line;
      return join(out);
    }
  }
  if (lines.includes(line)) return content;
  const out = [...lines];
  if (e.insertBefore !== undefined) {
    if (e.insertBefore === 'BOF') out.unshift(line);
    else {
      const r = re(e.insertBefore);
      const i = out.findIndex((l) => r.test(l));
      if (i >= 0) out.splice(i, 0, line);
      else out.push(line);
    }
  } else if (e.insertAfter !== undefined && e.insertAfter !== 'EOF') {
    const r = re(e.insertAfter);
    let i = -1;
    out.forEach((l, j) => {
      if (r.test(l)) i = j;
    });
    if (i >= 0) out.splice(i + 1, 0, line);
    else out.push(line);
  } else out.push(line);
  return join(out);
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  path: absolute,
  line: z.optional(secretOr(anyString)),
  regexp: z.optional(regexOr),
  state: z._default(z.enum(['present', 'absent']), 'present'),
  insertAfter: z.optional(regexOr),
  insertBefore: z.optional(regexOr),
  create: z.optional(bool),
  backup: z.optional(bool),
});

export function lineInFile(opts: LineInFileOptions): Task {
  const o = parseOptions('lineInFile', schema, opts, { exclusive: [['insertAfter', 'insertBefore']], requiredIf: [['state', 'present', ['line']]] });
  const path = absPath(o.path);
  if (o.state === 'absent' && o.line === undefined && o.regexp === undefined) optionError('lineInFile', opts, 'line / regexp', 'state absent needs one of them');
  const line = o.line === undefined ? undefined : reveal(o.line);
  return defineTask('lineinfile', `line in ${path}`, o, {
    facts: { st: fileStat(path), content: fileContent(path) },
    plan: ({ st, content }) => planEdit(st, content, o, (c) => editLine(c, { ...o, line }), o.create),
  });
}

/** Shared by lineInFile, blockInFile: edit a text file's content, keep or set attributes. */
export function planEdit(st: FileState, content: Buffer | null, o: FileAttrs & { backup?: boolean }, edit: (c: string) => string, create?: boolean): Plan {
  const path = st.path;
  if (st.type !== 'absent' && st.type !== 'file') throw new Error(`${path} is a ${st.type}, not a regular file`);
  if (content === null && !create) {
    if (edit('') === '') return { changed: false, msg: 'file absent' };
    throw new Error(`${path} does not exist (set create: true to create it)`);
  }
  const before = content === null ? '' : content.toString('utf8');
  const after = edit(before);
  const attrs = content === null ? [] : attrChanges(st, o);
  if (after === before && content !== null && !attrs.length) return { changed: false };
  if (content === null && after === '') return { changed: false };
  return {
    changed: true,
    msg: content === null ? 'create' : after !== before ? 'edit' : attrs.join(', '),
    diff: [{ label: path, before, after }],
    steps: [write(path, after, { mode: o.mode ?? (content === null ? '0644' : undefined), owner: o.owner, group: o.group, backup: o.backup })],
  };
}
