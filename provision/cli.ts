/**
 * The command line every playbook script shares:
 *
 *   // playbooks/site.ts
 *   import { definePlaybook, main } from './';
 *   const site = definePlaybook({ name: 'site', tasks: () => [...] });
 *   await main(site);     // parses --inventory --check --diff --limit --tags --skip-tags --forks ... and runs it
 *
 * Exit codes: 0 ok, 1 a host failed, 2 bad input (inventory, options, playbook), 4 a host was unreachable.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { cliProgram } from '../shared/cli';
import { ProvisionInputError } from './errors';
import { parseExtraVar } from './extra-vars';
import type { Inventory } from './inventory';
import type { Output } from './output';
import type { Playbook } from './playbook';
import { preconnect, type Preconnected } from './preconnect';
import type { RunOptions, RunReport } from './runner';
import { redact } from './secret';
import { trace } from './trace';

export interface CliOptions {
  inventory: string;
  check: boolean;
  diff: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  forks: number;
  trustNewHostKey: boolean;
  report?: string;
  extraVars: Record<string, unknown>;
  listHosts: boolean;
  listTasks: boolean;
  /** Every parsed option, including those a script added with `meta.options` (camelCase keys). */
  all: Record<string, unknown>;
}

export interface CliMeta {
  name?: string;
  description?: string;
  /** Options of the script itself, added beside the playbook options (shown in --help). */
  options?: (program: Command) => void;
}

const list = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function parseCli(argv: string[], meta: CliMeta = {}): CliOptions {
  const int = (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer');
    return Number(v);
  };
  const program = cliProgram(meta.name ?? 'playbook', meta.description ?? 'Run a provisioning playbook over SSH')
    .option('-i, --inventory <file>', 'inventory YAML (Ansible shape); default $PROVISION_INVENTORY')
    .option('-C, --check', 'dry run: read and decide, change nothing', false)
    .option('-D, --diff', 'show before/after of what changes (secrets redacted)', false)
    .option('-l, --limit <pattern>', 'only these hosts/groups (web1,db*,!db3)')
    .option('-t, --tags <tags>', 'only tasks with these tags (comma separated)', list)
    .option('--skip-tags <tags>', 'skip tasks with these tags', list)
    .option('-f, --forks <n>', 'hosts in parallel', int, 10)
    .option('--trust-new-host-key', 'record the key of a host with no key in known_hosts (a changed key, or one of another type, is still refused)', false)
    .option('--report <file>', 'write a JSON report (secrets redacted)')
    .option('-e, --extra-vars <vars>', 'key=value, JSON, or @file.yaml (repeatable; overrides inventory vars)', parseExtraVar)
    .option('--list-hosts', 'print the hosts that would run and exit', false)
    .option('--list-tasks', 'print the tasks per host and exit', false);
  meta.options?.(program);
  try {
    program.parse(argv, { from: 'node' });
  } catch (e) {
    if (e instanceof ProvisionInputError) throw e;
    const err = e as { code?: string; exitCode?: number; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') throw Object.assign(new Error('help'), { exitCode: 0, quiet: true });
    throw Object.assign(new ProvisionInputError(err.message.replace(/^error: /, '')), { quiet: true });
  }
  const o = program.opts<Record<string, unknown>>();
  const inventory = (o.inventory as string | undefined) ?? process.env.PROVISION_INVENTORY;
  if (!inventory) throw new ProvisionInputError('no inventory: pass --inventory FILE (or set PROVISION_INVENTORY)');
  return {
    inventory,
    check: !!o.check,
    diff: !!o.diff,
    limit: o.limit as string | undefined,
    tags: o.tags as string[] | undefined,
    skipTags: o.skipTags as string[] | undefined,
    forks: (o.forks as number) ?? 10,
    trustNewHostKey: !!o.trustNewHostKey,
    report: o.report as string | undefined,
    extraVars: (o.extraVars as Record<string, unknown> | undefined) ?? {},
    listHosts: !!o.listHosts,
    listTasks: !!o.listTasks,
    all: o,
  };
}

export interface RunCliExtras {
  output?: Output;
  /** Passed to runPlaybook (tests: connect, beforeTask). */
  runOptions?: Partial<RunOptions>;
  name?: string;
  description?: string;
  /** Inventory already loaded (skips --inventory). */
  inventory?: Inventory;
  /** Connections the script started early (connectEarly); closed when the run ends. */
  early?: Preconnected;
}

/** Parse argv, run the playbook(s) in order, write the report; returns the exit code (never throws). */
export async function runPlaybookCli(playbooks: Playbook<any> | Playbook<any>[], argv: string[] = process.argv, extras: RunCliExtras = {}): Promise<number> {
  const pbs = Array.isArray(playbooks) ? playbooks : [playbooks];
  let o: CliOptions;
  try {
    trace('cli start');
    o = parseCli(argv, { name: extras.name ?? pbs[0]?.name, description: extras.description });
    trace('args parsed');
  } catch (e) {
    return cliErrorCode(e);
  }
  return runParsed(pbs, o, extras);
}

/** The engine, loaded when a run starts: parsing (and --help) needs none of it. */
const loadEngine = () => Promise.all([import('./inventory.js'), import('./playbook.js'), import('./report.js'), import('./runner.js')]);

/**
 * Loads now what a run would load on first use (the engine, yaml, diff, ssh2's client). A startup snapshot of a
 * playbook script (bin/snapshot.mjs) calls it while it is made, so a run started from it finds them ready.
 */
export async function preloadEngine(): Promise<void> {
  const [{ parseInventory }] = await loadEngine();
  require('yaml');
  require('diff');
  (await import('./connection.js')).preloadSsh();
  // one pass over an inventory: code that has run once is compiled already in the snapshot
  parseInventory(SAMPLE_INVENTORY, '<snapshot>');
}

/** An inventory of the usual shape (group vars, a host's connection settings, a child group); no secrets. */
const SAMPLE_INVENTORY = `all:
  vars:
    ansible_user: "root"
  hosts:
    vps:
      ansible_host: "203.0.113.10"
      ansible_port: 22
      ansible_ssh_private_key_file: "~/.ssh/id_ed25519"
      ssh_known_hosts_file: "~/.ssh/known_hosts"
      ssh_connect_timeout: 10
      vps_backup_destination: "s3://example-backups"
  children:
    web:
      hosts:
        vps: {}
`;

/** Exit code for an error of parsing or running: 0 after --help, 2 bad input (one line), 1 anything else. */
export function cliErrorCode(e: unknown): number {
  const err = e as Error & { exitCode?: number; quiet?: boolean };
  if (err.exitCode === 0) return 0;
  if (err instanceof ProvisionInputError) {
    if (!(err as { quiet?: boolean }).quiet) process.stderr.write(`error: ${redact(err.message)}\n`);
    return 2;
  }
  process.stderr.write(`error: ${redact(err.stack ?? err.message)}\n`);
  return 1;
}

/**
 * Start the SSH handshakes of the hosts a run will reach (`hostsPattern`, then --limit), so they overlap what
 * comes before the run: a script loading its config, the runner building the task lists. undefined (the runner
 * connects on its own) when the run only lists, when it may record a new host key, or when `extras` brings its
 * own way to connect. A script that may still ask before running calls this only once the answer is known.
 */
export async function connectEarly(o: CliOptions, inventory: Inventory, hostsPattern = 'all', extras: RunCliExtras = {}): Promise<Preconnected | undefined> {
  if (o.listHosts || o.listTasks || o.trustNewHostKey || extras.runOptions?.connect) return undefined;
  const [{ selectHosts }, { defaultConnect }] = await Promise.all([import('./inventory.js'), import('./runner.js')]);
  let hosts = selectHosts(inventory, hostsPattern);
  if (o.limit) hosts = selectHosts(inventory, o.limit, hosts.map((h) => h.name));
  return preconnect(hosts, defaultConnect(false));
}

/** Run the playbook(s) with options already parsed (parseCli); returns the exit code (never throws). */
export async function runParsed(playbooks: Playbook<any> | Playbook<any>[], o: CliOptions, extras: RunCliExtras = {}): Promise<number> {
  const pbs = Array.isArray(playbooks) ? playbooks : [playbooks];
  let early = extras.early;
  try {
    const [{ loadInventory, selectHosts }, { flattenTasks }, { exitCodeOf, writeReport }, { runPlaybook, tagSelected }] = await loadEngine();
    const inv = extras.inventory ?? loadInventory(o.inventory);
    trace('inventory loaded');
    if (o.listHosts || o.listTasks) {
      for (const pb of pbs) {
        let hosts = selectHosts(inv, pb.hosts ?? 'all');
        if (o.limit) hosts = selectHosts(inv, o.limit, hosts.map((h) => h.name));
        process.stdout.write(`playbook ${pb.name}: ${hosts.length} host(s)\n`);
        for (const h of hosts) {
          process.stdout.write(`  ${h.name} (${h.ssh.user}@${h.ssh.host}:${h.ssh.port})\n`);
          if (o.listTasks) {
            const view = { name: h.name, groups: h.groups, vars: { ...(pb.vars ?? {}), ...h.vars, ...o.extraVars } };
            for (const t of flattenTasks(pb.tasks(view as never)))
              if (tagSelected(t.tags, o.tags, o.skipTags)) process.stdout.write(redact(`    ${t.module.padEnd(10)} ${t.name}${t.tags.length ? `  [${t.tags.join(',')}]` : ''}\n`));
          }
        }
      }
      return 0;
    }
    early ??= pbs.length === 1 ? await connectEarly(o, inv, pbs[0]!.hosts ?? 'all', extras) : undefined;
    const reports: RunReport[] = [];
    for (const pb of pbs) {
      const r = await runPlaybook(pb, inv, {
        check: o.check,
        diff: o.diff,
        limit: o.limit,
        tags: o.tags,
        skipTags: o.skipTags,
        forks: o.forks,
        trustNewHostKey: o.trustNewHostKey,
        extraVars: o.extraVars,
        output: extras.output,
        ...extras.runOptions,
        ...(early ? { connect: early.connect } : {}),
      });
      reports.push(r);
      if (!r.ok) break;
    }
    if (o.report) writeReport(o.report, reports.length === 1 ? reports[0]! : reports);
    return exitCodeOf(reports);
  } catch (e) {
    return cliErrorCode(e);
  } finally {
    early?.close();
  }
}

/** For playbook scripts: run and set the process exit code. */
export async function main(playbooks: Playbook<any> | Playbook<any>[], argv: string[] = process.argv, extras: RunCliExtras = {}): Promise<void> {
  const code = await runPlaybookCli(playbooks, argv, extras);
  process.exitCode = code;
  // exit as soon as output is flushed: nothing else is left to do, and closing sockets may linger a little
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
