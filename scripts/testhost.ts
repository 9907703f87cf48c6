// `npm run testhost -- <command>`: build the test host cache, boot/stop disposable Debian hosts (docs/testhost.md).
//   up [--port N] [--name NAME] [--no-docker] [--no-apt-relay] [--wait] [--json]
//   down [--name NAME | --all]
//   status
//   build [--prune]
import { parseArgs } from 'node:util';
import {
  bootHost, cachePaths, ensureCache, listHosts, pruneCache, stopAll, stopHost, testhostUnavailableReason,
} from '../testhost';

const USAGE = `usage: npm run testhost -- up [--port N] [--name NAME] [--no-docker] [--no-apt-relay] [--wait] [--json]
                            | down [--name NAME | --all] | status | build [--prune]`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string' },
      name: { type: 'string' },
      all: { type: 'boolean' },
      'no-docker': { type: 'boolean' },
      'no-apt-relay': { type: 'boolean' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      prune: { type: 'boolean' },
    },
  });
  const log = (l: string): void => void process.stderr.write(l + '\n');
  if (cmd === 'status') {
    const hosts = listHosts();
    if (!hosts.length) console.log('no test hosts');
    for (const h of hosts) {
      console.log(`${h.name} port=${h.port} ${h.running ? 'running' : 'DEAD'} docker=${h.withDocker} since=${h.createdAt}`);
    }
    return 0;
  }
  if (cmd === 'down') {
    if (values.all) {
      const names = await stopAll();
      console.log(names.length ? `stopped ${names.join(' ')}` : 'no test hosts');
      return 0;
    }
    if (!values.name) throw new Error('down needs --name NAME or --all');
    if (!(await stopHost(values.name))) {
      console.error(`no test host ${values.name}`);
      return 1;
    }
    console.log(`stopped ${values.name}`);
    return 0;
  }
  const reason = testhostUnavailableReason();
  if (reason) {
    console.error(`testhost: unavailable: ${reason}`);
    return 2;
  }
  if (cmd === 'build') {
    const t0 = Date.now();
    const p = await ensureCache({ log });
    console.log(`cache ${p.root}/${p.key} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (key ${p.clientKey})`);
    if (values.prune) {
      if (listHosts().length) throw new Error('hosts are running: stop them before --prune');
      const removed = await pruneCache();
      console.log(removed.length ? `pruned ${removed.join(' ')}` : 'nothing to prune');
    }
    return 0;
  }
  if (cmd === 'up') {
    await ensureCache({ log, docker: !values['no-docker'] });
    const h = await bootHost({
      port: values.port ? Number(values.port) : undefined,
      name: values.name,
      withDocker: !values['no-docker'],
      aptRelay: !values['no-apt-relay'],
      waitForSystem: values.wait,
      keepAfterExit: true,
    });
    const info = {
      name: h.name, host: h.host, port: h.port, user: h.user, key: h.privateKeyPath,
      fingerprint: h.hostKeyFingerprint, known_hosts: h.knownHostsPath, boot_ms: h.bootMs,
    };
    if (values.json) console.log(JSON.stringify({ ...info, knownHostsLine: h.knownHostsLine, cache: cachePaths().key }));
    else console.log(Object.entries(info).map(([k, v]) => `${k}=${v}`).join(' '));
    log(`ssh: ssh ${h.sshArgs().join(' ')}`);
    return 0;
  }
  console.error(USAGE);
  return cmd ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`testhost: ${e.message}`);
    process.exit(1);
  },
);
