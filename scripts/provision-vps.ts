/**
 * `npm run provision:vps -- --inventory FILE [--check] [--diff] [--limit h] [--tags t] [--snapshot-first]
 *  [--migrate-env-files]`: converges the Hostinger VPS (playbooks/hostinger-vps.ts) from the config
 * (`ZIGGIE_CONFIG`, default config/ziggie.example.yaml).
 *
 *   --snapshot-first      ask Hostinger for a VPS snapshot (ops/hostinger/snapshot.ts) and wait for it before
 *                         changing anything; no snapshot, no change. Skipped with --check.
 *   --migrate-env-files   move values of legacy /opt/ziggie/{,<svc>/}.env files into Secrets Manager (with this
 *                         machine's AWS credentials), then shred the files.
 * Every other option is the provisioning library's (provision/cli.ts): --report, --forks, --skip-tags, ...
 * Exit codes: 0 ok, 1 a host failed (or the snapshot failed), 2 bad input, 4 unreachable.
 */
import { ConfigError, configPath, loadConfig } from '../config/load';
import type { ZiggieConfig } from '../config/schema';
import { vpsPlaybook, type VpsPlaybookOptions } from '../playbooks/hostinger-vps';
import { runCli } from '../provision';
import type { RunCliExtras } from '../provision/cli';

export type SnapshotFn = (config: ZiggieConfig, log: (line: string) => void) => Promise<string>;

export interface ProvisionVpsDeps {
  config?: ZiggieConfig;
  snapshot?: SnapshotFn;
  playbook?: VpsPlaybookOptions;
  cli?: RunCliExtras;
  stderr?: (s: string) => void;
}

const OWN_FLAGS = new Set(['--snapshot-first', '--migrate-env-files']);

/**
 * The ops issue's Hostinger client, when it is there: `snapshotBeforeChange` (audited, waits for the action).
 * `opts` is passed through (tests give it a context with stand-in clients).
 */
export async function hostingerSnapshot(config: ZiggieConfig, log: (line: string) => void,
  opts: Omit<import('../ops/hostinger/snapshot').SnapshotOptions, 'log' | 'reason'> = {}): Promise<string> {
  let mod: typeof import('../ops/hostinger/snapshot');
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require('../ops/hostinger/snapshot') as typeof import('../ops/hostinger/snapshot');
  } catch (e) {
    throw new Error(`--snapshot-first needs ops/hostinger/snapshot.ts (the ops CLI's Hostinger client): ${(e as Error).message.split('\n')[0]}`);
  }
  const r = await mod.snapshotBeforeChange(config, { ...opts, log, reason: 'provision:vps --snapshot-first' });
  if (r.action.state !== 'success') throw new Error(`Hostinger snapshot action #${r.action.id} ended "${r.action.state}"`);
  return `snapshot of VPS ${r.vmId} taken${r.snapshot ? ` (${r.snapshot.created_at})` : ''}`;
}

export async function provisionVps(argv: string[], deps: ProvisionVpsDeps = {}): Promise<number> {
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const args = argv.slice(2);
  const own = new Set(args.filter((a) => OWN_FLAGS.has(a)));
  const rest = args.filter((a) => !OWN_FLAGS.has(a));
  const check = rest.includes('--check') || rest.includes('-C');
  const listing = rest.some((a) => a === '--list-hosts' || a === '--list-tasks' || a === '-h' || a === '--help');

  let config: ZiggieConfig;
  try {
    config = deps.config ?? loadConfig(configPath());
  } catch (e) {
    err(`${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    return 2;
  }
  let playbook;
  try {
    playbook = vpsPlaybook(config, { migrateEnvFiles: own.has('--migrate-env-files'), ...deps.playbook });
  } catch (e) {
    err(`error: ${(e as Error).message}\n`);
    return 2;
  }

  if (own.has('--snapshot-first') && !listing) {
    if (check) err('--snapshot-first: skipped in check mode (nothing will be changed)\n');
    else {
      try {
        const note = await (deps.snapshot ?? ((c, l) => hostingerSnapshot(c, l)))(config, (l) => err(`snapshot: ${l}\n`));
        err(`snapshot: ${note}\n`);
      } catch (e) {
        err(`error: --snapshot-first: ${(e as Error).message}; nothing was changed\n`);
        return 1;
      }
    }
  }
  return runCli(playbook, [argv[0] ?? 'node', argv[1] ?? 'provision-vps', ...rest], {
    name: 'provision:vps',
    description: 'Converge the Hostinger VPS: containers, secrets, backups, firewall (playbooks/hostinger-vps.ts).\n' +
      'Also: --snapshot-first (Hostinger snapshot before any change), --migrate-env-files (legacy .env -> Secrets Manager). docs/vps.md',
    ...deps.cli,
  });
}

if (require.main === module) {
  provisionVps(process.argv).then((code) => {
    process.exitCode = code;
  });
}
