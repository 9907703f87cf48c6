/** file / directory / link / absent / touch: existence, type and attributes of a path. */
import * as z from 'zod/mini';
import { absolute, attrs, bool, common, parseOptions, str } from '../options';
import { fileStat, type FileState } from '../facts/file';
import { absPath, attrChanges, normalizeMode, type FileAttrs } from '../files';
import { atomicReplace, attrScript, ownerSpec, sh } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export type FileStateName = 'file' | 'directory' | 'link' | 'absent' | 'touch';

export interface FileOptions extends TaskOptions, FileAttrs {
  path: string;
  /** file: must exist, fix attributes; touch: create empty if missing; directory: mkdir -p; link: symlink to src; absent: rm -rf */
  state?: FileStateName;
  /** link target (state: link) */
  src?: string;
  /** replace a path of another type (e.g. a file where a link should be) */
  force?: boolean;
}

function describe(st: FileState): string {
  if (st.type === 'absent') return `${st.path}: absent\n`;
  const attrs = `mode=${st.mode ?? '?'} owner=${st.owner ?? '?'} group=${st.group ?? '?'}`;
  if (st.type === 'link') return `${st.path}: link -> ${st.target ?? '?'} ${attrs}\n`;
  return `${st.path}: ${st.type} ${attrs}\n`;
}

function wanted(path: string, type: FileState['type'], o: FileOptions, cur: FileState): FileState {
  return {
    path,
    type,
    mode: normalizeMode(o.mode) ?? (cur.type === type ? cur.mode : type === 'directory' ? '0755' : type === 'link' ? '0777' : '0644'),
    owner: o.owner ?? (cur.type === type ? cur.owner : undefined),
    group: o.group ?? (cur.type === type ? cur.group : undefined),
    target: type === 'link' ? o.src : undefined,
  };
}

const diffOf = (cur: FileState, after: FileState) => [{ label: cur.path, before: describe(cur), after: describe(after) }];

/** Only the attributes differ (or nothing does). */
function attrPlan(st: FileState, want: FileAttrs, link = false): Plan {
  const w = link ? { owner: want.owner, group: want.group } : want;
  const changes = attrChanges(st, w);
  if (!changes.length) return { changed: false };
  const after = { ...st, mode: link ? st.mode : normalizeMode(want.mode) ?? st.mode, owner: want.owner ?? st.owner, group: want.group ?? st.group };
  return { changed: true, msg: changes.join(', '), diff: diffOf(st, after), steps: [run(attrScript(st.path, w, { noDeref: link }), `chmod/chown ${st.path}`)] };
}

function planAbsent(cur: FileState): Plan {
  if (cur.type === 'absent') return { changed: false };
  return { changed: true, msg: `remove ${cur.type}`, diff: diffOf(cur, { path: cur.path, type: 'absent' }), steps: [run(sh`rm -rf -- ${cur.path}`, `remove ${cur.path}`)] };
}

function planDirectory(cur: FileState, o: FileOptions): Plan {
  const path = cur.path;
  if (cur.type === 'absent') {
    const attrs = attrScript(path, { ...o, mode: o.mode ?? '0755' });
    return { changed: true, msg: 'create', diff: diffOf(cur, wanted(path, 'directory', o, cur)), steps: [run(sh`mkdir -p -- ${path}` + (attrs ? ` && ${attrs}` : ''), `mkdir ${path}`)] };
  }
  if (cur.type !== 'directory') throw new Error(`${path} exists and is a ${cur.type}, not a directory`);
  return attrPlan(cur, o);
}

/** A new link beside the path, renamed over it (mv -T replaces a link, not its target directory). */
function planLink(cur: FileState, o: FileOptions & { src: string }): Plan {
  const path = cur.path;
  if (cur.type === 'link' && cur.target === o.src) return attrPlan(cur, o, true);
  if (cur.type !== 'absent' && cur.type !== 'link' && !o.force) throw new Error(`${path} exists and is a ${cur.type}; set force: true to replace it with a link`);
  const own = ownerSpec(o.owner, o.group);
  const script = atomicReplace({ path, fill: [sh`ln -sfn -- ${o.src} "$t"`], finish: own ? [sh`chown -h ${own} "$t"`] : [] });
  return {
    changed: true,
    msg: cur.type === 'absent' ? `create -> ${o.src}` : `retarget ${cur.target ?? cur.type} -> ${o.src}`,
    diff: diffOf(cur, wanted(path, 'link', o, cur)),
    steps: [...(cur.type === 'directory' ? [run(sh`rm -rf -- ${path}`, `remove ${path}`)] : []), run(script, `link ${path}`)],
  };
}

function planFile(cur: FileState, o: FileOptions, touch: boolean): Plan {
  const path = cur.path;
  if (cur.type === 'absent') {
    if (!touch) throw new Error(`${path} does not exist (state "file" only fixes attributes; use touch or copy to create it)`);
    const attrs = attrScript(path, { ...o, mode: o.mode ?? '0644' });
    return { changed: true, msg: 'create empty file', diff: diffOf(cur, wanted(path, 'file', o, cur)), steps: [run(sh`: >> ${path}` + (attrs ? ` && ${attrs}` : ''), `touch ${path}`)] };
  }
  if (cur.type !== 'file' && !(cur.type === 'link' && !touch)) throw new Error(`${path} exists and is a ${cur.type}, not a file`);
  return attrPlan(cur, o);
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  path: absolute,
  state: z._default(z.enum(['file', 'directory', 'link', 'absent', 'touch']), 'file'),
  src: z.optional(str),
  force: z.optional(bool),
});

export function file(opts: FileOptions): Task {
  const o = parseOptions('file', schema, opts, { requiredIf: [['state', 'link', ['src']]] });
  const state = o.state;
  const path = absPath(o.path);
  const module = state === 'absent' ? 'absent' : state === 'directory' ? 'directory' : state === 'link' ? 'link' : 'file';
  return defineTask(module, `${state} ${path}`, o, {
    facts: { cur: fileStat(path) },
    plan({ cur }) {
      if (state === 'absent') return planAbsent(cur);
      if (state === 'directory') return planDirectory(cur, o);
      if (state === 'link') return planLink(cur, { ...o, src: o.src! });
      return planFile(cur, o, state === 'touch');
    },
  });
}

export const directory = (o: Omit<FileOptions, 'state'>): Task => file({ ...o, state: 'directory' });
export const link = (o: Omit<FileOptions, 'state'> & { src: string }): Task => file({ ...o, state: 'link' });
export const absent = (o: Omit<FileOptions, 'state' | 'mode' | 'owner' | 'group'>): Task => file({ ...o, state: 'absent' });
export const touch = (o: Omit<FileOptions, 'state'>): Task => file({ ...o, state: 'touch' });
