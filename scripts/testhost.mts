// `npm run testhost -- <command>`: build the test host cache, boot/stop disposable Debian hosts (docs/testhost.md).
//   up [--port N] [--name NAME] [--no-docker] [--no-apt-relay] [--wait] [--json]
//   down [--name NAME | --all]
//   status
//   build [--prune]
import type { Command } from 'commander';
import { cliProgram, exitWith, runProgram, usageError } from '../shared/cli.js';

const harness = () => import('../testhost/index.js');
const log = (l: string): void => void process.stderr.write(l + '\n');

/** The host-side commands need root and the tools; say why not in one line (exit 2) before doing anything. */
async function available(): Promise<boolean> {
  const reason = (await harness()).testhostUnavailableReason();
  if (reason) console.error(`testhost: unavailable: ${reason}`);
  process.exitCode = reason ? 2 : 0;
  return !reason;
}

const program = cliProgram('testhost', 'Disposable Debian bookworm test hosts under systemd-nspawn (docs/testhost.md)');

program.command('up').description('boot a host (building the cache first if needed) and print how to reach it')
  .option('--port <n>', 'loopback port for its sshd (default: a free one)')
  .option('--name <name>', 'host name (default: generated)')
  .option('--no-docker', 'without the Docker layer')
  .option('--no-apt-relay', 'without the host-side apt relay')
  .option('--wait', 'wait until systemd reports the system up')
  .option('--json', 'print the host as JSON')
  .action(async (o: { port?: string; name?: string; docker: boolean; aptRelay: boolean; wait?: boolean; json?: boolean }, cmd: Command) => {
    if (o.port !== undefined && !/^\d+$/.test(o.port)) usageError(cmd, `--port: expected a port number, got "${o.port}"`);
    if (!(await available())) return;
    const { bootHost, cachePaths, ensureCache } = await harness();
    await ensureCache({ log, docker: o.docker });
    const h = await bootHost({
      port: o.port ? Number(o.port) : undefined, name: o.name, withDocker: o.docker, aptRelay: o.aptRelay,
      waitForSystem: o.wait, keepAfterExit: true,
    });
    const info = {
      name: h.name, host: h.host, port: h.port, user: h.user, key: h.privateKeyPath,
      fingerprint: h.hostKeyFingerprint, known_hosts: h.knownHostsPath, boot_ms: h.bootMs,
    };
    if (o.json) console.log(JSON.stringify({ ...info, knownHostsLine: h.knownHostsLine, cache: cachePaths().key }));
    else console.log(Object.entries(info).map(([k, v]) => `${k}=${v}`).join(' '));
    log(`ssh: ssh ${h.sshArgs().join(' ')}`);
  });

program.command('down').description('stop a host (or all of them) and remove its files')
  .option('--name <name>', 'the host to stop')
  .option('--all', 'stop every test host')
  .action(async (o: { name?: string; all?: boolean }, cmd: Command) => {
    if (!o.all && !o.name) usageError(cmd, 'down needs --name NAME or --all');
    const { stopAll, stopHost } = await harness();
    if (o.all) {
      const names = await stopAll();
      console.log(names.length ? `stopped ${names.join(' ')}` : 'no test hosts');
    } else if (await stopHost(o.name!)) console.log(`stopped ${o.name}`);
    else {
      console.error(`no test host ${o.name}`);
      process.exitCode = 1;
    }
  });

program.command('status').description('the hosts this machine runs')
  .action(async () => {
    const hosts = (await harness()).listHosts();
    if (!hosts.length) console.log('no test hosts');
    for (const h of hosts) console.log(`${h.name} port=${h.port} ${h.running ? 'running' : 'DEAD'} docker=${h.withDocker} since=${h.createdAt}`);
  });

program.command('build').description('build the host cache once per machine (Debian rootfs, Docker layer)')
  .option('--prune', 'then remove caches of other recipes')
  .action(async (o: { prune?: boolean }) => {
    if (!(await available())) return;
    const { ensureCache, listHosts, pruneCache } = await harness();
    const t0 = Date.now();
    const p = await ensureCache({ log });
    console.log(`cache ${p.root}/${p.key} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (key ${p.clientKey})`);
    if (o.prune) {
      if (listHosts().length) throw new Error('hosts are running: stop them before --prune');
      const removed = await pruneCache();
      console.log(removed.length ? `pruned ${removed.join(' ')}` : 'nothing to prune');
    }
  });

let code: number;
try {
  code = await runProgram(program, process.argv);
} catch (e) {
  console.error(`testhost: ${(e as Error).message}`);
  code = 1;
}
await exitWith(code);
