// `npm run bench:provision`: the same 10-task playbook (bench/playbook.ts and bench/ansible/playbook.yml) run by
// ansible-playbook and by this library against fresh Debian test hosts: first run, no-op re-run (several times
// each, interleaved), and the no-op run on 10 hosts at once. Ends with
//   RESULT noop_speedup=<x> first_speedup=<y> parallel10_over_single=<z>
// Wall times are of the CLI process as a user runs it: `node provision/run.cjs bench/playbook.ts` (the playbook
// bundled once by esbuild, then started from the bundle) and `ansible-playbook` (pipelining + ControlPersist).
//   options: --reps N (default 3: fresh hosts per rep)  --noops N (default 5 per rep)  --keep-reports DIR
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bootHost, cacheReady, ensureCache, stopOwnHosts, testhostUnavailableReason, type TestHost } from '../testhost';

const ROOT = path.resolve(__dirname, '..');
const LAUNCHER = path.join(ROOT, 'provision', 'run.cjs');
const PLAYBOOK_TS = path.join(ROOT, 'bench', 'playbook.ts');
const ANSIBLE_DIR = path.join(ROOT, 'bench', 'ansible');

interface Timed {
  ms: number;
  code: number | null;
  out: string;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ ms: performance.now() - t0, code, out }));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

/** A booted host as the benchmark reaches it (the harness's loopback forwarder, TCP_NODELAY on both legs). */
interface Target {
  host: TestHost;
  name: string;
  port: number;
  knownHostsLine: string;
  knownHostsPath: string;
}

function target(host: TestHost): Target {
  return { host, name: host.name, port: host.port, knownHostsLine: host.knownHostsLine, knownHostsPath: host.knownHostsPath };
}

async function boot(n: number): Promise<Target[]> {
  const hosts = await Promise.all(Array.from({ length: n }, () => bootHost({ withDocker: false, waitForSystem: true })));
  return hosts.map(target);
}

function libInventory(dir: string, hosts: Target[]): string {
  const file = path.join(dir, `lib-${hosts.length}-${hosts[0]!.port}.yml`);
  const lines = ['all:', '  vars:', '    ansible_user: root', `    ansible_ssh_private_key_file: ${hosts[0]!.host.privateKeyPath}`, '  hosts:'];
  for (const h of hosts) lines.push(`    ${h.name}: { ansible_host: 127.0.0.1, ansible_port: ${h.port}, ssh_known_hosts_file: ${h.knownHostsPath} }`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function ansibleInventory(dir: string, hosts: Target[]): string {
  const kh = path.join(dir, `known_hosts-${hosts[0]!.port}`);
  writeFileSync(kh, hosts.map((h) => h.knownHostsLine + '\n').join(''));
  const tmpl = readFileSync(path.join(ANSIBLE_DIR, 'inventory.yml.tmpl'), 'utf8');
  const file = path.join(dir, `ansible-${hosts[0]!.port}.yml`);
  writeFileSync(
    file,
    tmpl
      .replace('{{KEY}}', hosts[0]!.host.privateKeyPath)
      .replace('{{KNOWN_HOSTS}}', kh)
      .replace('{{HOSTS}}', hosts.map((h) => `    ${h.name}: { ansible_host: 127.0.0.1, ansible_port: ${h.port} }`).join('\n')),
  );
  return file;
}

function check(what: string, r: Timed, changed: 'zero' | 'some'): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.out.slice(-3000)}`);
  const counts = [...r.out.matchAll(/changed=(\d+)/g)].map((m) => Number(m[1]));
  if (!counts.length) throw new Error(`${what}: no recap in output:\n${r.out.slice(-2000)}`);
  if (changed === 'zero' && counts.some((c) => c !== 0)) throw new Error(`${what}: expected changed=0 everywhere:\n${r.out.slice(-3000)}`);
  if (changed === 'some' && counts.some((c) => c === 0)) throw new Error(`${what}: expected changes on a fresh host:\n${r.out.slice(-3000)}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      noops: { type: 'string', default: '5' },
      'keep-reports': { type: 'string' },
    },
  });
  const reps = Math.max(1, Number(values.reps));
  const noops = Math.max(1, Number(values.noops));
  const why = testhostUnavailableReason();
  if (why) {
    console.error(`bench:provision: test hosts cannot run here: ${why}`);
    return 1;
  }
  if (spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('bench:provision: ansible-playbook not found: apt-get install -y --no-install-recommends ansible-core');
    return 1;
  }
  if (!cacheReady()) {
    console.error('bench:provision: building the test host cache (once)...');
    await ensureCache({ docker: false });
  }
  const dir = values['keep-reports'] ? path.resolve(values['keep-reports']) : mkdtempSync(path.join(tmpdir(), 'bench-provision-'));
  mkdirSync(dir, { recursive: true });
  const ansibleEnv = {
    ...process.env,
    ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-tmp'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
    ANSIBLE_NOCOLOR: '1',
  };
  const lib = (inv: string, extra: string[] = []): Promise<Timed> => timed(process.execPath, [LAUNCHER, PLAYBOOK_TS, '-i', inv, ...extra]);
  const tsx = (inv: string): Promise<Timed> => timed(process.execPath, [require.resolve('tsx/cli'), PLAYBOOK_TS, '-i', inv]);
  const ansible = (inv: string): Promise<Timed> => timed('ansible-playbook', ['-i', inv, path.join(ANSIBLE_DIR, 'playbook.yml')], ansibleEnv);

  // build the bundle + V8 code cache outside the timings (a user's first start pays this once)
  const warm = await timed(process.execPath, [LAUNCHER, PLAYBOOK_TS, '--help']);
  if (warm.code !== 0) throw new Error(`bundling the playbook failed:\n${warm.out}`);

  const t: Record<string, number[]> = { ansFirst: [], ansNoop: [], libFirst: [], libNoop: [], tsxNoop: [], single: [], par10: [], ssh1: [], ssh10: [] };
  try {
    for (let rep = 1; rep <= reps; rep++) {
      const [ha, hl] = await boot(2);
      const invA = ansibleInventory(dir, [ha]);
      const invL = libInventory(dir, [hl]);
      const a1 = await ansible(invA);
      check('ansible first run', a1, 'some');
      const l1 = await lib(invL);
      check('library first run', l1, 'some');
      t.ansFirst!.push(a1.ms);
      t.libFirst!.push(l1.ms);
      for (let i = 0; i < noops; i++) {
        const a = await ansible(invA);
        check('ansible no-op run', a, 'zero');
        const l = await lib(invL);
        check('library no-op run', l, 'zero');
        t.ansNoop!.push(a.ms);
        t.libNoop!.push(l.ms);
      }
      const x = await tsx(invL);
      check('library no-op run under tsx', x, 'zero');
      t.tsxNoop!.push(x.ms);
      process.stderr.write(
        `rep ${rep}/${reps}: ansible first ${fmt(a1.ms)} no-op ${fmt(median(t.ansNoop!.slice(-noops)))} | library first ${fmt(l1.ms)} no-op ${fmt(median(t.libNoop!.slice(-noops)))} (tsx ${fmt(x.ms)})\n`,
      );
      await Promise.all([ha!.host.stop(), hl!.host.stop()]);
    }

    const hosts = await boot(10);
    const inv10 = libInventory(dir, hosts);
    const inv1 = libInventory(dir, [hosts[0]!]);
    check('library first run on 10 hosts', await lib(inv10), 'some');
    for (let i = 0; i < noops; i++) {
      const s = await lib(inv1);
      check('library no-op (1 host)', s, 'zero');
      const p = await lib(inv10);
      check('library no-op (10 hosts)', p, 'zero');
      t.single!.push(s.ms);
      t.par10!.push(p.ms);
    }
    // context for the ratio: OpenSSH's own client running `true` on 1 host vs on all 10 at once, same hosts
    const kh = path.join(dir, 'known_hosts-all');
    writeFileSync(kh, hosts.map((h) => h.knownHostsLine + '\n').join(''));
    const sshAll = (n: number): string =>
      hosts
        .slice(0, n)
        .map((h) => `ssh -i ${h.host.privateKeyPath} -p ${h.port} -o UserKnownHostsFile=${kh} -o BatchMode=yes -o ControlMaster=no root@127.0.0.1 true &`)
        .join('\n') + '\nwait';
    for (let i = 0; i < noops; i++) {
      t.ssh1!.push((await timed('sh', ['-c', sshAll(1)])).ms);
      t.ssh10!.push((await timed('sh', ['-c', sshAll(10)])).ms);
    }
  } finally {
    await stopOwnHosts();
    if (!values['keep-reports']) rmSync(dir, { recursive: true, force: true });
  }

  const rows: [string, number[], number[]][] = [
    ['first run (fresh host)', t.ansFirst!, t.libFirst!],
    ['no-op re-run', t.ansNoop!, t.libNoop!],
  ];
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\n10-task playbook (2 directories, 5 files, 1 line, 1 user, 1 apt package); ${reps} fresh host pairs, ${noops} no-op runs each; load avg ${load}`);
  console.log(`SSH path: loopback -> the harness's socat forwarder (TCP_NODELAY) -> guest sshd, for both tools`);
  console.log('| run | ansible-playbook 2.14 (median) | this library (median) | speedup | runs |');
  console.log('|---|---|---|---|---|');
  for (const [name, a, l] of rows) console.log(`| ${name} | ${fmt(median(a))} | ${fmt(median(l))} | ${(median(a) / median(l)).toFixed(1)}x | ${a.length} + ${l.length} |`);
  console.log(`| no-op re-run under tsx (no bundle) | | ${fmt(median(t.tsxNoop!))} | ${(median(t.ansNoop!) / median(t.tsxNoop!)).toFixed(1)}x | ${t.tsxNoop!.length} |`);
  console.log(`| library no-op, 1 host / 10 hosts in parallel | | ${fmt(median(t.single!))} / ${fmt(median(t.par10!))} | ratio ${(median(t.par10!) / median(t.single!)).toFixed(2)} | ${t.single!.length} + ${t.par10!.length} |`);
  console.log(`| (context) OpenSSH \`ssh host true\`, 1 host / 10 hosts in parallel | | ${fmt(median(t.ssh1!))} / ${fmt(median(t.ssh10!))} | ratio ${(median(t.ssh10!) / median(t.ssh1!)).toFixed(2)} | ${t.ssh1!.length} + ${t.ssh10!.length} |`);
  const noop = median(t.ansNoop!) / median(t.libNoop!);
  const first = median(t.ansFirst!) / median(t.libFirst!);
  const par = median(t.par10!) / median(t.single!);
  console.log(`\nRESULT noop_speedup=${noop.toFixed(1)} first_speedup=${first.toFixed(1)} parallel10_over_single=${par.toFixed(2)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    console.error(`bench:provision failed: ${(e as Error).message}`);
    await stopOwnHosts().catch(() => undefined);
    process.exit(1);
  },
);
