/** Connections opened early (provision/preconnect.ts): each taken once, notices kept, the rest closed. */
import type { Remote } from '../../../provision/connection';
import { UnreachableError } from '../../../provision/errors';
import type { InventoryHost } from '../../../provision/inventory';
import { MemoryOutput } from '../../../provision/output';
import { definePlaybook } from '../../../provision/playbook';
import { preconnect } from '../../../provision/preconnect';
import { runPlaybook } from '../../../provision/runner';
import { defineTask } from '../../../provision/task';
import { inventoryOf, LocalRemote } from './helpers';

const inv = inventoryOf(['a', 'b', 'down']);
const hosts = inv.hosts;

/** An open() that records each call, says one notice, and fails for the host named "down". */
function opener() {
  const opened: string[] = [];
  const remotes = new Map<string, LocalRemote>();
  const open = async (h: InventoryHost, notice: (m: string) => void): Promise<Remote> => {
    opened.push(h.name);
    notice(`${h.name}: recorded new host key`);
    if (h.name === 'down') throw new UnreachableError(`${h.name}: SSH connection refused`);
    const r = new LocalRemote(h.name);
    remotes.set(h.name, r);
    return r;
  };
  return { open, opened, remotes };
}

test('each host connects once, before it is asked for; a second ask connects anew', async () => {
  const o = opener();
  const early = preconnect(hosts, o.open);
  expect(o.opened).toEqual(['a', 'b', 'down']);
  const notices: string[] = [];
  const a = await early.connect(hosts[0]!, (m) => notices.push(m));
  expect(a).toBe(o.remotes.get('a'));
  expect(notices).toEqual(['a: recorded new host key']);
  await early.connect(hosts[0]!, () => undefined);
  expect(o.opened).toEqual(['a', 'b', 'down', 'a']);
});

test('close() closes what nobody took and drops a failed handshake without an unhandled rejection', async () => {
  const o = opener();
  const early = preconnect(hosts, o.open);
  await early.connect(hosts[0]!, () => undefined);
  early.close();
  await new Promise((r) => setImmediate(r));
  expect(o.remotes.get('a')!.closed).toBe(false);
  expect(o.remotes.get('b')!.closed).toBe(true);
});

test('the runner takes the early connections: an unreachable host is reported as with its own connect', async () => {
  const o = opener();
  const early = preconnect(hosts, o.open);
  const pb = definePlaybook({ name: 'p', tasks: () => [defineTask('fake', 't', {}, { plan: () => ({ changed: false }) })] });
  const out = new MemoryOutput();
  const r = await runPlaybook(pb, inv, { connect: early.connect, output: out });
  expect(o.opened).toEqual(['a', 'b', 'down']);
  expect(r.hosts.map((h) => [h.name, h.status])).toEqual([['a', 'ok'], ['b', 'ok'], ['down', 'unreachable']]);
  expect(r.hosts[2]!.error).toBe('down: SSH connection refused');
  expect(out.lines.filter((l) => l.includes('recorded new host key'))).toHaveLength(3);
});
