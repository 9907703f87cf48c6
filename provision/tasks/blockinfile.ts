/** blockInFile: a marked block of lines in a text file (Ansible blockinfile semantics). */
import * as z from 'zod/mini';
import { absolute, anyString, attrs, bool, common, parseOptions, regexOr, secretOr, str } from '../options';
import { fileContent, fileStat } from '../facts/file';
import { absPath, type FileAttrs } from '../files';
import { reveal, type Secret } from '../secret';
import { defineTask, type Task, type TaskOptions } from '../task';
import { planEdit } from './lineinfile';

export interface BlockEdit {
  block: string;
  /** marker line template; {mark} becomes BEGIN / END. Default "# {mark} MANAGED BLOCK" */
  marker?: string;
  state?: 'present' | 'absent';
  insertAfter?: 'EOF' | RegExp | string;
  insertBefore?: 'BOF' | RegExp | string;
}

export interface BlockInFileOptions extends TaskOptions, FileAttrs, Omit<BlockEdit, 'block'> {
  path: string;
  block?: string | Secret;
  create?: boolean;
  backup?: boolean;
}

const re = (r: RegExp | string): RegExp => (typeof r === 'string' ? new RegExp(r) : new RegExp(r.source, r.flags.replace('g', '')));

export function editBlock(content: string, e: BlockEdit): string {
  const marker = e.marker ?? '# {mark} MANAGED BLOCK';
  const begin = marker.replace('{mark}', 'BEGIN');
  const end = marker.replace('{mark}', 'END');
  const hadNl = content === '' || content.endsWith('\n');
  const lines = content === '' ? [] : (hadNl ? content.slice(0, -1) : content).split('\n');
  const bi = lines.indexOf(begin);
  const ei = bi >= 0 ? lines.indexOf(end, bi + 1) : -1;
  const body = e.block === '' ? [] : e.block.replace(/\n$/, '').split('\n');
  const join = (ls: string[]): string => (ls.length ? ls.join('\n') + '\n' : '');
  let out: string[];
  if ((e.state ?? 'present') === 'absent') {
    if (bi < 0 || ei < 0) return content;
    out = [...lines.slice(0, bi), ...lines.slice(ei + 1)];
  } else {
    const blockLines = [begin, ...body, end];
    if (bi >= 0 && ei >= 0) out = [...lines.slice(0, bi), ...blockLines, ...lines.slice(ei + 1)];
    else if (e.insertBefore !== undefined) {
      const i = e.insertBefore === 'BOF' ? 0 : lines.findIndex((l) => re(e.insertBefore!).test(l));
      out = i >= 0 ? [...lines.slice(0, i), ...blockLines, ...lines.slice(i)] : [...lines, ...blockLines];
    } else if (e.insertAfter !== undefined && e.insertAfter !== 'EOF') {
      let i = -1;
      lines.forEach((l, j) => {
        if (re(e.insertAfter!).test(l)) i = j;
      });
      out = i >= 0 ? [...lines.slice(0, i + 1), ...blockLines, ...lines.slice(i + 1)] : [...lines, ...blockLines];
    } else out = [...lines, ...blockLines];
  }
  const result = join(out);
  return result === content || (result === content + '\n' && !hadNl && out.length === lines.length) ? content : result;
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  path: absolute,
  block: z.optional(secretOr(anyString)),
  marker: z._default(str.check(z.includes('{mark}', { error: 'must contain {mark}' })), '# {mark} MANAGED BLOCK'),
  state: z._default(z.enum(['present', 'absent']), 'present'),
  insertAfter: z.optional(regexOr),
  insertBefore: z.optional(regexOr),
  create: z.optional(bool),
  backup: z.optional(bool),
});

export function blockInFile(opts: BlockInFileOptions): Task {
  const o = parseOptions('blockInFile', schema, opts, { exclusive: [['insertAfter', 'insertBefore']], requiredIf: [['state', 'present', ['block']]] });
  const path = absPath(o.path);
  const block = o.block === undefined ? '' : reveal(o.block);
  return defineTask('blockinfile', `block in ${path}`, o, {
    facts: { st: fileStat(path), content: fileContent(path) },
    plan: ({ st, content }) => planEdit(st, content, o, (c) => editBlock(c, { ...o, block }), o.create),
  });
}
