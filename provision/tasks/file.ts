/** file / directory / link / absent / touch: existence, type and attributes of a path. */
import { absPath, attrChanges, attrScript, normalizeMode, type FileAttrs, type FileState } from '../files';
import { sh } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

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

export function file(o: FileOptions): Task {
  const state = o.state ?? 'file';
  const path = absPath(o.path);
  normalizeMode(o.mode);
  if (state === 'link' && !o.src) throw new Error(`file ${path}: state link needs src`);
  return defineTask(state === 'absent' ? 'absent' : state === 'directory' ? 'directory' : state === 'link' ? 'link' : 'file', `${state} ${path}`, o, {
    probe: { stat: [path] },
    async plan(ctx, probe): Promise<Plan> {
      const cur = probe.stat(path);
      const diffOf = (after: FileState | 'absent') => [
        { label: path, before: describe(cur), after: after === 'absent' ? `${path}: absent\n` : describe(after) },
      ];
      if (state === 'absent') {
        if (cur.type === 'absent') return { changed: false };
        return {
          changed: true,
          msg: `remove ${cur.type}`,
          diff: diffOf('absent'),
          apply: async () => void (await ctx.run(sh`rm -rf -- ${path}`, `remove ${path}`)),
        };
      }
      if (state === 'directory') {
        if (cur.type === 'absent') {
          const want = wanted(path, 'directory', o, cur);
          return {
            changed: true,
            msg: 'create',
            diff: diffOf(want),
            apply: async () => {
              const attrs = attrScript(path, { ...o, mode: o.mode ?? '0755' });
              await ctx.run(sh`mkdir -p -- ${path}` + (attrs ? ` && ${attrs}` : ''), `mkdir ${path}`);
            },
          };
        }
        if (cur.type !== 'directory') throw new Error(`${path} exists and is a ${cur.type}, not a directory`);
        return attrPlan(cur, o);
      }
      if (state === 'link') {
        const src = o.src!;
        if (cur.type === 'link' && cur.target === src) return attrPlan(cur, { owner: o.owner, group: o.group }, true);
        if (cur.type !== 'absent' && cur.type !== 'link' && !o.force)
          throw new Error(`${path} exists and is a ${cur.type}; set force: true to replace it with a link`);
        const want = wanted(path, 'link', o, cur);
        return {
          changed: true,
          msg: cur.type === 'absent' ? `create -> ${src}` : `retarget ${cur.target ?? cur.type} -> ${src}`,
          diff: diffOf(want),
          apply: async () => {
            // atomic: a new link beside it, renamed over the old path (mv -T replaces a link, not its target dir)
            const own = o.owner || o.group ? `${o.owner ?? ''}${o.group ? ':' + o.group : ''}` : '';
            const script = [
              cur.type === 'directory' ? sh`rm -rf -- ${path}` : '',
              sh`p=${path}; s=${src}`,
              't="$(dirname -- "$p")/.$(basename -- "$p").ptmp.$$"',
              'ln -sfn -- "$s" "$t"',
              own ? sh`chown -h ${own} "$t"` : '',
              'mv -fT -- "$t" "$p"',
            ];
            await ctx.run(script.filter(Boolean).join(' && '), `link ${path}`);
          },
        };
      }
      // file / touch
      if (cur.type === 'absent') {
        if (state === 'file') throw new Error(`${path} does not exist (state "file" only fixes attributes; use touch or copy to create it)`);
        const want = wanted(path, 'file', o, cur);
        return {
          changed: true,
          msg: 'create empty file',
          diff: diffOf(want),
          apply: async () => {
            const attrs = attrScript(path, { ...o, mode: o.mode ?? '0644' });
            await ctx.run(sh`: >> ${path}` + (attrs ? ` && ${attrs}` : ''), `touch ${path}`);
          },
        };
      }
      if (cur.type !== 'file' && !(cur.type === 'link' && state === 'file')) throw new Error(`${path} exists and is a ${cur.type}, not a file`);
      return attrPlan(cur, o);

      function attrPlan(st: FileState, want: FileAttrs, link = false): Plan {
        const changes = attrChanges(st, link ? { owner: want.owner, group: want.group } : want);
        if (!changes.length) return { changed: false };
        const after = { ...st, mode: link ? st.mode : normalizeMode(want.mode) ?? st.mode, owner: want.owner ?? st.owner, group: want.group ?? st.group };
        return {
          changed: true,
          msg: changes.join(', '),
          diff: [{ label: path, before: describe(st), after: describe(after) }],
          apply: async () => void (await ctx.run(attrScript(path, link ? { owner: want.owner, group: want.group } : want, { noDeref: link }), `chmod/chown ${path}`)),
        };
      }
    },
  });
}

export const directory = (o: Omit<FileOptions, 'state'>): Task => file({ ...o, state: 'directory' });
export const link = (o: Omit<FileOptions, 'state'> & { src: string }): Task => file({ ...o, state: 'link' });
export const absent = (o: Omit<FileOptions, 'state' | 'mode' | 'owner' | 'group'>): Task => file({ ...o, state: 'absent' });
export const touch = (o: Omit<FileOptions, 'state'>): Task => file({ ...o, state: 'touch' });
