/**
 * The bake's real side effects outside AWS: the private key's temp file, SSH to the builder (host key pinned from
 * the console output), the playbook runs through the provisioning engine, and the caller's IP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ZiggieConfig } from '../config/schema';
import { comfyuiAmiPlaybook, sealPlaybook, varsFromConfig, type ComfyAmiVars } from '../playbooks/comfyui-ami';
import { SshConnection } from '../provision/connection';
import { HostKeyError, UnreachableError } from '../provision/errors';
import type { Inventory } from '../provision/inventory';
import { ConsoleOutput, type Output } from '../provision/output';
import { runPlaybook } from '../provision/runner';
import type { BakeDeps, BuilderTarget, KeyFile } from './types';
import { poll, realSleep, type Sleep } from './wait';

/**
 * The private key goes to a fresh 0700 directory as a 0600 file (created exclusively: never an existing file),
 * with the temp known_hosts beside it. remove() deletes both; the bake's cleanup stack calls it.
 */
export function writeKeyFile(material: string, root = tmpdir()): KeyFile {
  const dir = mkdtempSync(path.join(root, 'ziggie-bake-ami-'));
  const file = path.join(dir, 'builder_ed25519');
  writeFileSync(file, material.endsWith('\n') ? material : material + '\n', { mode: 0o600, flag: 'wx' });
  return {
    path: file,
    knownHostsPath: path.join(dir, 'known_hosts'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RemoteOptions {
  config: ZiggieConfig;
  trustNewHostKey?: boolean;
  /** builder without an NVIDIA driver (a CPU smoke bake) */
  allowCpu?: boolean;
  /** playbook vars over the config's (tests: offline stand-ins for the repo, indexes and models) */
  vars?: Partial<ComfyAmiVars>;
  sshTimeoutMs?: number;
  output?: Output;
  sleep?: Sleep;
  log?: (line: string) => void;
}

function sshSettings(t: BuilderTarget) {
  return {
    host: t.host,
    port: t.port ?? 22,
    user: t.user,
    privateKeyFile: t.privateKeyFile,
    agent: undefined,
    knownHostsFile: t.knownHostsFile,
    hostKeyFingerprint: t.hostKeyFingerprint,
    become: true,
    becomeUser: 'root',
    connectTimeoutMs: 20_000,
    commandTimeoutMs: 60 * 60_000,
  };
}

export function builderInventory(t: BuilderTarget): Inventory {
  return {
    file: '<bake-ami builder>',
    hosts: [{ name: 'builder', groups: ['all'], vars: {}, ssh: sshSettings(t) }],
    groups: { all: ['builder'] },
  };
}

/** waitForSsh + provision for BakeDeps. */
export function remoteDeps(o: RemoteOptions): Pick<BakeDeps, 'waitForSsh' | 'provision'> {
  const sleep = o.sleep ?? realSleep;
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  return {
    async waitForSsh(t, signal) {
      let last = '';
      const conn = await poll(async () => {
        try {
          return await SshConnection.open({ ...sshSettings(t), name: 'builder', trustNewHostKey: o.trustNewHostKey });
        } catch (e) {
          // A wrong host key is an attack or a mix-up, never "not ready yet".
          if (e instanceof HostKeyError || !(e instanceof UnreachableError)) throw e;
          if (e.message !== last) log(`  ${(last = e.message)}`);
          return undefined;
        }
      }, { what: `SSH on ${t.host}`, intervalMs: 5_000, timeoutMs: o.sshTimeoutMs ?? 10 * 60_000, signal, sleep, now: Date.now });
      try {
        // the base image's first boot (cloud-init, apt timers) must be done before the playbook takes apt's lock
        await conn.exec('cloud-init status --wait >/dev/null 2>&1 || true', { become: true, timeoutMs: 20 * 60_000 });
      } finally {
        await conn.close();
      }
    },
    async provision(t) {
      const inventory = builderInventory(t);
      const output = o.output ?? new ConsoleOutput();
      const runOpts = { output, trustNewHostKey: o.trustNewHostKey };
      const vars = { ...varsFromConfig(o.config), allow_cpu: !!o.allowCpu, ...(o.vars ?? {}) };
      const main = await runPlaybook(comfyuiAmiPlaybook(vars), inventory, runOpts);
      if (!main.ok) throw new Error(`the ComfyUI playbook failed on the builder: ${main.hosts[0]?.error ?? 'see above'}`);
      const seal = await runPlaybook(sealPlaybook(t.user), inventory, runOpts);
      if (!seal.ok) throw new Error(`sealing the builder failed: ${seal.hosts[0]?.error ?? 'see above'}`);
    },
  };
}

/** The caller's public IPv4, from checkip.amazonaws.com (AWS's own echo service). */
export async function checkIp(signal?: AbortSignal, url = 'https://checkip.amazonaws.com'): Promise<string> {
  // never a silent wait: 5 s for the whole exchange
  const deadline = AbortSignal.timeout(5000);
  const r = await fetch(url, { signal: signal ? AbortSignal.any([signal, deadline]) : deadline, headers: { 'user-agent': 'ziggie-bake-ami' } })
    .catch((e: Error) => {
      if (signal?.aborted) throw e;
      throw new Error(`${url}: ${deadline.aborted ? 'no answer within 5000 ms' : (e.cause as { code?: string })?.code ?? e.message}: pass --my-ip instead`);
    });
  if (!r.ok) throw new Error(`${url} answered HTTP ${r.status}: pass --my-ip instead`);
  return (await r.text()).trim();
}
