/**
 * `npm run provision:vps` (scripts/provision-vps.mts): converge the Hostinger VPS (playbooks/hostinger-vps.ts) from
 * the config (`ZIGGIE_CONFIG`, default config/ziggie.example.yaml). Options: the provisioning library's
 * (provision/cli.ts: --inventory, --check, --diff, --limit, --tags, --report, ...) and
 *
 *   --snapshot-first      ask Hostinger for a VPS snapshot (ops/hostinger/snapshot.ts) and wait for it before
 *                         changing anything; no snapshot, no change. Skipped with --check.
 *   --migrate-env-files   move values of legacy /opt/ziggie/{,<svc>/}.env files into Secrets Manager (with this
 *                         machine's AWS credentials), then shred the files.
 *   -y, --yes             change the hosts without asking (a run that can change them asks first on a terminal,
 *                         and is refused without --yes when there is no terminal to ask on)
 * Exit codes: 0 ok, 1 a host failed (or the snapshot failed), 2 bad input or not confirmed, 4 unreachable.
 */
import type { ZiggieConfig } from '../../config/schema';
import type { VpsPlaybookOptions } from '../../playbooks/hostinger-vps';
import { cliErrorCode, connectEarly, parseCli, runParsed, type CliOptions, type RunCliExtras } from '../../provision/cli';
import type { Inventory } from '../../provision/inventory';
import { letHandshakesMove, type Preconnected } from '../../provision/preconnect';
import { trace } from '../../provision/trace';

export type SnapshotFn = (config: ZiggieConfig, log: (line: string) => void) => Promise<string>;

export interface ProvisionVpsDeps {
  config?: ZiggieConfig;
  snapshot?: SnapshotFn;
  playbook?: VpsPlaybookOptions;
  cli?: RunCliExtras;
  stderr?: (s: string) => void;
  /** Ask before changing the hosts: resolves true to go on. Absent (no terminal): the run needs --yes. */
  confirm?: (question: string) => Promise<boolean>;
  /** Shows progress while a long wait runs (zx spinner in the entry script). */
  during?: <T>(title: string, work: () => Promise<T>) => Promise<T>;
}

const DESCRIPTION = 'Converge the Hostinger VPS: containers, secrets, backups, firewall (playbooks/hostinger-vps.ts). docs/vps.md';

function vpsOptions(program: import('commander').Command): void {
  program
    .option('--snapshot-first', 'take a Hostinger snapshot of the VPS before any change (no snapshot, no change)', false)
    .option('--migrate-env-files', 'move legacy /opt/ziggie .env values into Secrets Manager, then shred the files', false)
    .option('-y, --yes', 'change the hosts without asking', false);
}

/** Parse provision:vps argv; throws like parseCli (help: exitCode 0; bad input: ProvisionInputError). */
export function parseProvisionVps(argv: string[]): CliOptions {
  return parseCli(argv, { name: 'provision:vps', description: DESCRIPTION, options: vpsOptions });
}

/**
 * A Hostinger snapshot through the ops library's `snapshotBeforeChange` (audited, waits for the action).
 * `opts` is passed through (tests give it a context with stand-in clients). TLS: only with --snapshot-first, listed
 * in bin/snapshot.mjs SNAPSHOTS (a run without it starts without the CA bundle).
 */
export async function hostingerSnapshot(config: ZiggieConfig, log: (line: string) => void,
  opts: Omit<import('../../ops/hostinger/snapshot').SnapshotOptions, 'log' | 'reason'> = {}): Promise<string> {
  const mod = await import('../../ops/hostinger/snapshot.js');
  const r = await mod.snapshotBeforeChange(config, { ...opts, log, reason: 'provision:vps --snapshot-first' });
  if (r.action.state !== 'success') throw new Error(`Hostinger snapshot action #${r.action.id} ended "${r.action.state}"`);
  return `snapshot of VPS ${r.vmId} taken${r.snapshot ? ` (${r.snapshot.created_at})` : ''}`;
}

/** Parse argv and run; returns the exit code. */
export async function provisionVps(argv: string[], deps: ProvisionVpsDeps = {}): Promise<number> {
  let o: CliOptions;
  try {
    o = parseProvisionVps(argv);
  } catch (e) {
    return cliErrorCode(e);
  }
  return runProvisionVps(o, deps);
}

/** Run with parsed options (parseProvisionVps): config, playbook, confirmation, snapshot, then the playbook. */
export async function runProvisionVps(o: CliOptions, deps: ProvisionVpsDeps = {}): Promise<number> {
  const early = await startEarly(o, deps);
  try {
    return await converge(o, deps, early);
  } finally {
    early.connections?.close();
  }
}

interface EarlyStart {
  inventory?: Inventory;
  connections?: Preconnected;
}

/**
 * A run that goes ahead without asking (--check, --yes; no snapshot to wait for) starts its SSH handshakes now,
 * beside loading the config and building the playbook (provision/preconnect.ts). An inventory that does not load
 * is left for converge() to report, after the config, as without this.
 */
async function startEarly(o: CliOptions, deps: ProvisionVpsDeps): Promise<EarlyStart> {
  if (!(o.check || o.all.yes) || o.all.snapshotFirst) return { inventory: deps.cli?.inventory };
  try {
    const inventory = deps.cli?.inventory ?? (await import('../../provision/inventory.js')).loadInventory(o.inventory);
    return { inventory, connections: await connectEarly(o, inventory, 'all', deps.cli) };
  } catch {
    return { inventory: deps.cli?.inventory };
  }
}

async function converge(o: CliOptions, deps: ProvisionVpsDeps, early: EarlyStart): Promise<number> {
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const listing = o.listHosts || o.listTasks;
  const [{ ConfigError, configPath, loadConfig }, { vpsPlaybook }, { loadInventory, selectHosts }] = await Promise.all([
    import('../../config/load.js'), import('../../playbooks/hostinger-vps.js'), import('../../provision/inventory.js'),
  ]);
  let config: ZiggieConfig;
  try {
    config = deps.config ?? loadConfig(configPath());
    trace('config loaded');
    if (early.connections) await letHandshakesMove();
  } catch (e) {
    err(`${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    return 2;
  }
  let playbook;
  let inventory: Inventory;
  try {
    // the control center's bundle (built when a source changed since the last run; a few ms otherwise)
    const controlCenterApp = config.controlCenter?.vps && !deps.playbook?.controlCenterApp
      ? await (await import('./control-center-app.js')).controlCenterApp() : undefined;
    if (early.connections) await letHandshakesMove();
    playbook = vpsPlaybook(config, { migrateEnvFiles: Boolean(o.all.migrateEnvFiles), controlCenterApp, ...deps.playbook });
    trace('playbook built');
    inventory = early.inventory ?? loadInventory(o.inventory);
  } catch (e) {
    return cliErrorCode(e);
  }

  if (!o.check && !listing && !o.all.yes) {
    let hosts;
    try {
      hosts = selectHosts(inventory, o.limit ?? playbook.hosts ?? 'all');
    } catch (e) {
      return cliErrorCode(e);
    }
    const targets = hosts.map((h) => `${h.name} (${h.ssh.user}@${h.ssh.host}:${h.ssh.port})`).join(', ');
    if (!deps.confirm) {
      err(`error: provision:vps would change ${targets}: confirm with --yes (no terminal to ask on), or look first with --check --diff\n`);
      return 2;
    }
    if (!(await deps.confirm(`provision:vps will change ${targets}${o.all.snapshotFirst ? ' after a Hostinger snapshot' : ''}. Go on? [y/N] `))) {
      err('not confirmed: nothing was changed\n');
      return 2;
    }
  }

  if (o.all.snapshotFirst && !listing) {
    if (o.check) err('--snapshot-first: skipped in check mode (nothing will be changed)\n');
    else {
      try {
        const take = () => (deps.snapshot ?? ((c, l) => hostingerSnapshot(c, l)))(config, (l) => err(`snapshot: ${l}\n`));
        const note = await (deps.during ? deps.during('waiting for the Hostinger snapshot', take) : take());
        err(`snapshot: ${note}\n`);
      } catch (e) {
        err(`error: --snapshot-first: ${(e as Error).message}; nothing was changed\n`);
        return 1;
      }
    }
  }
  return runParsed(playbook, o, { ...deps.cli, inventory, early: early.connections });
}
