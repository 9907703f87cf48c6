import { ConnectionLostError, UnreachableError } from '../../../provision/errors';
import type { Remote } from '../../../provision/connection';
import { MemoryOutput } from '../../../provision/output';
import { block, definePlaybook } from '../../../provision/playbook';
import { exitCodeOf, reportJson } from '../../../provision/report';
import { runPlaybook, tagSelected } from '../../../provision/runner';
import { secret } from '../../../provision/secret';
import { defineTask, type Plan, type Task, type TaskOptions } from '../../../provision/task';
import { inventoryOf, LocalRemote } from './helpers';

/** A task whose plan says changed/ok as told, and records whether apply ran. */
function fake(name: string, changed: boolean, log: string[], o: Omit<TaskOptions, 'name'> & { fail?: string; lose?: boolean } = {}): Task {
  return defineTask('fake', name, { ...o, name }, {
    plan(_facts, env): Plan {
      log.push(`plan:${env.host.name}:${name}`);
      if (o.fail) throw new Error(o.fail);
      if (o.lose) throw new ConnectionLostError(`${env.host.name}: SSH connection lost while a command was running`);
      return { changed, msg: changed ? 'would change' : undefined, apply: async () => void log.push(`apply:${env.host.name}:${name}`) };
    },
  });
}

const connectLocal = (remotes: Map<string, LocalRemote> = new Map()) => async (h: { name: string }): Promise<Remote> => {
  const r = new LocalRemote(h.name);
  remotes.set(h.name, r);
  return r;
};

describe('runner', () => {
  test('handlers run once, after all tasks, only when notified by a changed task', async () => {
    const log: string[] = [];
    const pb = definePlaybook({
      name: 't',
      tasks: () => [
        fake('a', true, log, { notify: 'h1' }),
        fake('b', true, log, { notify: ['h1', 'h2'] }),
        fake('c', false, log, { notify: 'h3' }),
        false,
        null,
        [fake('d', false, log)],
      ],
      handlers: () => [fake('h1', true, log), fake('h2', true, log, { notify: 'h4' }), fake('h3', true, log), fake('h4', true, log)],
    });
    const out = new MemoryOutput();
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: out, connect: connectLocal() });
    expect(log.filter((l) => l.startsWith('apply'))).toEqual(['apply:x:a', 'apply:x:b', 'apply:x:h1', 'apply:x:h2', 'apply:x:h4']);
    expect(r.hosts[0]!.stats).toEqual({ ok: 7, changed: 5, failed: 0, skipped: 0, unreachable: 0 });
    expect(r.hosts[0]!.tasks.filter((t) => t.handler).map((t) => t.name)).toEqual(['h1', 'h2', 'h4']);
    expect(out.text()).toMatch(/RECAP\nx\s+ok=7\s+changed=5\s+unreachable=0\s+failed=0\s+skipped=0/);
    expect(exitCodeOf([r])).toBe(0);
  });

  test('check mode plans but never applies; handlers are planned too', async () => {
    const log: string[] = [];
    const pb = definePlaybook({ name: 't', tasks: () => [fake('a', true, log, { notify: 'h' })], handlers: () => [fake('h', true, log)] });
    const r = await runPlaybook(pb, inventoryOf(['x']), { check: true, output: new MemoryOutput(), connect: connectLocal() });
    expect(log).toEqual(['plan:x:a', 'plan:x:h']);
    expect(r.hosts[0]!.stats.changed).toBe(2);
  });

  test('when: booleans, functions with facts and vars, changed()', async () => {
    const log: string[] = [];
    const pb = definePlaybook<{ role: string }>({
      name: 't',
      vars: { role: 'db' },
      tasks: (h) => [
        fake('a', true, log, { when: false }),
        fake('b', true, log, { when: (w) => w.vars.role === 'web' }),
        fake('c', true, log, { when: (w) => w.facts.os.id !== '' && w.facts.arch !== '' }),
        fake('d', true, log, { when: (w) => w.changed('c') }),
        fake('e', true, log, { when: (w) => w.changed('b') }),
        h.vars.role === 'db' && fake('f', false, log),
      ],
    });
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal() });
    expect(r.hosts[0]!.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['a:skipped', 'b:skipped', 'c:changed', 'd:changed', 'e:skipped', 'f:ok']);
  });

  test('extra vars override inventory vars override playbook vars', async () => {
    const seen: unknown[] = [];
    const pb = definePlaybook<{ a: string; b: string; c: string }>({
      name: 't',
      vars: { a: 'pb', b: 'pb', c: 'pb' },
      tasks: (h) => (seen.push({ ...h.vars }), []),
    });
    await runPlaybook(pb, inventoryOf(['x'], '  children:\n    g:\n      vars: { b: inv, c: inv }\n      hosts: { x: }\n'), { extraVars: { c: 'extra' }, output: new MemoryOutput(), connect: connectLocal() });
    expect(seen[0]).toMatchObject({ a: 'pb', b: 'inv', c: 'extra' });
  });

  test('tags and skip-tags (Ansible rules, always/never)', () => {
    expect(tagSelected([], undefined, undefined)).toBe(true);
    expect(tagSelected(['a'], ['b'])).toBe(false);
    expect(tagSelected(['a', 'b'], ['b'])).toBe(true);
    expect(tagSelected(['always'], ['b'])).toBe(true);
    expect(tagSelected(['always'], ['b'], ['always'])).toBe(false);
    expect(tagSelected(['never', 'debug'])).toBe(false);
    expect(tagSelected(['never', 'debug'], ['debug'])).toBe(true);
    expect(tagSelected(['a'], undefined, ['a'])).toBe(false);
    expect(tagSelected([], ['untagged'])).toBe(true);
    expect(tagSelected(['x'], ['tagged'])).toBe(true);
  });

  test('--tags filters tasks; block() adds tags and ANDs when', async () => {
    const log: string[] = [];
    const pb = definePlaybook({
      name: 't',
      tasks: () => [
        fake('a', true, log, { tags: ['web'] }),
        block({ tags: ['db'] }, [fake('b', true, log), fake('c', true, log, { tags: ['web'] })]),
        block({ when: false }, [fake('d', true, log, { tags: ['web'] })]),
        fake('e', true, log, { tags: ['always'] }),
      ],
    });
    const r = await runPlaybook(pb, inventoryOf(['x']), { tags: ['web'], skipTags: ['db'], output: new MemoryOutput(), connect: connectLocal() });
    expect(r.hosts[0]!.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['a:changed', 'd:skipped', 'e:changed']);
  });

  test('a failure stops that host (no handlers), other hosts go on; exit code 1', async () => {
    const log: string[] = [];
    const pb = definePlaybook({
      name: 't',
      tasks: (h) => [fake('a', true, log, { notify: 'h' }), h.name === 'bad' ? fake('boom', false, log, { fail: 'disk on fire' }) : null, fake('c', true, log)],
      handlers: () => [fake('h', true, log)],
    });
    const out = new MemoryOutput();
    const r = await runPlaybook(pb, inventoryOf(['good', 'bad']), { output: out, connect: connectLocal(), forks: 1 });
    const bad = r.hosts.find((h) => h.name === 'bad')!;
    expect(bad.status).toBe('failed');
    expect(bad.error).toBe('boom: disk on fire');
    expect(bad.tasks.map((t) => t.name)).toEqual(['a', 'boom']);
    expect(r.hosts.find((h) => h.name === 'good')!.tasks.map((t) => t.name)).toEqual(['a', 'c', 'h']);
    expect(out.text()).toMatch(/bad\s+FAILED\s+boom: disk on fire/);
    expect(exitCodeOf([r])).toBe(1);
    expect(r.ok).toBe(false);
  });

  test('ignoreErrors goes on', async () => {
    const log: string[] = [];
    const pb = definePlaybook({ name: 't', tasks: () => [fake('boom', false, log, { fail: 'x', ignoreErrors: true }), fake('b', true, log)] });
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal() });
    expect(r.hosts[0]!.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['boom:failed', 'b:changed']);
    expect(r.hosts[0]!.status).toBe('ok');
  });

  test('unreachable at connect: reported, others go on, exit code 4', async () => {
    const log: string[] = [];
    const pb = definePlaybook({ name: 't', tasks: () => [fake('a', true, log)] });
    const out = new MemoryOutput();
    const r = await runPlaybook(pb, inventoryOf(['up', 'down']), {
      output: out,
      connect: async (h) => {
        if (h.name === 'down') throw new UnreachableError('down: cannot connect to 10.0.0.1:22: connection refused');
        return new LocalRemote(h.name);
      },
    });
    expect(r.hosts.map((h) => h.status)).toEqual(['ok', 'unreachable']);
    expect(out.text()).toMatch('UNREACHABLE  down: cannot connect to 10.0.0.1:22: connection refused');
    expect(exitCodeOf([r])).toBe(4);
  });

  test('connection lost mid-task: host unreachable with a re-run hint', async () => {
    const log: string[] = [];
    const pb = definePlaybook({ name: 't', tasks: () => [fake('a', true, log), fake('b', true, log, { lose: true }), fake('c', true, log)] });
    const out = new MemoryOutput();
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: out, connect: connectLocal() });
    expect(r.hosts[0]!.status).toBe('unreachable');
    expect(r.hosts[0]!.tasks.map((t) => t.name)).toEqual(['a', 'b']);
    expect(out.text()).toMatch(/UNREACHABLE\s+b: SSH connection lost while a command was running; the task may be half-done: re-run to converge/);
  });

  test('--limit and playbook hosts; forks runs hosts in parallel', async () => {
    const log: string[] = [];
    const inv = inventoryOf(['a', 'b', 'c'], '  children:\n    web:\n      hosts:\n        b:\n        c:\n');
    const pb = definePlaybook({ name: 't', hosts: 'web', tasks: () => [fake('t', false, log)] });
    const r = await runPlaybook(pb, inv, { limit: '!c', output: new MemoryOutput(), connect: connectLocal() });
    expect(r.hosts.map((h) => h.name)).toEqual(['b']);
    await expect(runPlaybook(pb, inv, { limit: 'a', output: new MemoryOutput(), connect: connectLocal() })).rejects.toThrow('no hosts matched');
  });

  test('a notify naming no handler is an input error before anything connects', async () => {
    const log: string[] = [];
    let connected = false;
    const pb = definePlaybook({ name: 't', tasks: () => [fake('a', true, log, { notify: 'nope' })] });
    await expect(
      runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: async () => ((connected = true), new LocalRemote()) }),
    ).rejects.toThrow('task "a" notifies "nope", but there is no handler of that name');
    expect(connected).toBe(false);
  });

  test('secrets never reach output, diff or report', async () => {
    const canary = secret('CANARY-d41d8cd98f00b204');
    const pb = definePlaybook({
      name: 't',
      tasks: () => [
        defineTask('fake', `uses ${canary}`, {}, {
          plan() {
            return { changed: true, msg: `set token=${canary.reveal()}`, diff: [{ label: 'f', before: '', after: `token=${canary.reveal()}\n` }], apply: async () => undefined };
          },
        }),
        defineTask('fake', 'fails', {}, {
          plan() {
            throw new Error(`bad token ${canary.reveal()}`);
          },
        }),
      ],
    });
    const out = new MemoryOutput();
    const r = await runPlaybook(pb, inventoryOf(['x']), { diff: true, output: out, connect: connectLocal() });
    const all = out.text() + reportJson(r);
    expect(all).not.toContain('CANARY-d41d8cd98f00b204');
    expect(all).toContain('token=***');
    expect(all).toContain('bad token ***');
  });

  test('one probe for the facts of every task; steps run in order; wait runs after the act, never in check mode', async () => {
    const { fileStat } = require('../../../provision/facts/file') as typeof import('../../../provision/facts/file');
    const d = require('node:fs').mkdtempSync('/tmp/prov-run-');
    const log: string[] = [];
    const t = (n: string) =>
      defineTask('fake', n, {}, {
        facts: { st: fileStat(`${d}/${n}`) },
        plan: ({ st }) => ({
          changed: st.type === 'absent',
          steps: [{ run: `echo ${n} > ${d}/${n}`, what: 'make' }, { write: `${d}/${n}.w`, content: 'w\n' }],
          wait: async () => void log.push(`wait:${n}`),
        }),
      });
    const pb = definePlaybook({ name: 't', tasks: () => [t('a'), t('b'), t('c')] });
    const remotes = new Map<string, LocalRemote>();
    await runPlaybook(pb, inventoryOf(['x']), { check: true, output: new MemoryOutput(), connect: connectLocal(remotes) });
    expect(remotes.get('x')!.calls).toHaveLength(1);
    expect(log).toEqual([]);
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal(remotes) });
    expect(r.hosts[0]!.tasks.map((x) => x.status)).toEqual(['changed', 'changed', 'changed']);
    expect(require('node:fs').readFileSync(`${d}/b.w`, 'utf8')).toBe('w\n');
    expect(log).toEqual(['wait:a', 'wait:b', 'wait:c']);
    const again = await runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal(remotes) });
    expect(again.hosts[0]!.tasks.map((x) => x.status)).toEqual(['ok', 'ok', 'ok']);
    expect(remotes.get('x')!.calls).toHaveLength(1);
  });

  test('the host facts a first condition reads travel in the same script as the probe of every task', async () => {
    const { fileStat } = require('../../../provision/facts/file') as typeof import('../../../provision/facts/file');
    const seen: string[] = [];
    const t = (n: string, when?: TaskOptions['when']) =>
      defineTask('fake', n, { when }, { facts: { st: fileStat(`/nonexistent/${n}`) }, plan: ({ st }) => ({ changed: false, msg: st.type }) });
    const pb = definePlaybook({
      name: 't',
      tasks: () => [t('a', (h) => (seen.push(h.facts.os.id, h.facts.kernel), h.facts.os.id !== 'no-such-os')), t('b'), t('c', (h) => !!h.facts.hostname)],
    });
    const remotes = new Map<string, LocalRemote>();
    const r = await runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal(remotes) });
    expect(r.hosts[0]!.tasks.map((x) => [x.status, x.msg])).toEqual([['ok', 'absent'], ['ok', 'absent'], ['ok', 'absent']]);
    expect(seen[1]).toBe(require('node:os').release());
    expect(remotes.get('x')!.calls).toHaveLength(1);
  });

  test('the connection is closed at the end', async () => {
    const remotes = new Map<string, LocalRemote>();
    await runPlaybook(definePlaybook({ name: 't', tasks: () => [] }), inventoryOf(['x']), { output: new MemoryOutput(), connect: connectLocal(remotes) });
    expect(remotes.get('x')!.closed).toBe(true);
  });
});
