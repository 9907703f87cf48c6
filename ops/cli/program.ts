/**
 * The `ziggie` ops CLI: gpu, secrets, cost, health, audit, vps, dns. Human tables by default, `--json`
 * everywhere; every mutating command is audited; every failure is one line that says what to do next.
 * scripts/ziggie.ts is the entry point; tests call `runCli` with their own context and streams.
 */
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import type { ZiggieConfig } from '../../config/schema';
import { cliProgram } from '../../shared/cli';
import type { AuditRecord } from '../audit/audit';
import type { OpsContext } from '../context';
import type { GpuAnswer, GpuControl } from '../../gpu-control/control';
import type { RemoteRun } from '../health';
import type { DnsRecordType } from '../hostinger/types';
import { dnsType, intIn, minutes, month, since } from './args';
import { duration, parseSince, readSecretInput, table, usd, type SecretInputIo } from './output';

// Each command loads what it uses when it runs: `--help` and usage errors load commander and nothing else.
const load = {
  config: () => import('../../config/load.js'),
  context: () => import('../context.js'),
  cost: () => import('../cost.js'),
  costReport: () => import('../../cost/report.js'),
  errors: () => import('../aws/errors.js'),
  firewall: () => import('../hostinger/firewall.js'),
  gpu: () => import('../gpu/service.js'),
  health: () => import('../health.js'),
  hostinger: () => import('../hostinger/client.js'),
  secrets: () => import('../secrets.js'),
  snapshot: () => import('../hostinger/snapshot.js'),
  submit: () => import('../gpu/submit.js'),
  clients: () => import('../aws/clients.js'),
  token: () => import('../hostinger/token.js'),
};

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: SecretInputIo['stdin'];
}

export interface CliDeps {
  io?: CliIo;
  /** Build the context (tests pass mocked clients); default: from the config file. */
  context?: (config: ZiggieConfig) => OpsContext;
  config?: ZiggieConfig;
  /** GPU controller override (tests). */
  gpu?: (ctx: OpsContext, instanceId?: string) => Promise<GpuControl>;
  ssh?: RemoteRun;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** More command groups added by the entry script (the control plane's `agent …`); ops never imports them. */
  extend?: (program: Command, tools: {
    out(line: string): void; err(line: string): void; fail(code: number): void;
    context(cmd: Command): Promise<OpsContext>; configFile(cmd: Command): Promise<string | undefined>;
  }) => void;
}

/** Exit codes: 0 ok, 1 a check or operation failed, 2 bad config or usage. */
export async function runCli(argv: string[], deps: CliDeps = {}): Promise<number> {
  const io: CliIo = deps.io ?? { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  let exitCode = 0;
  let json = false;
  const out = (line = '') => io.stdout.write(`${line}\n`);
  const err = (line: string) => io.stderr.write(`${line}\n`);
  const emit = (value: unknown, human: () => void) => (json ? out(JSON.stringify(value, null, 2)) : human());
  const fail = (code = 1) => { exitCode = Math.max(exitCode, code); };

  let ctx: OpsContext | undefined;
  const context = async (cmd: Command): Promise<OpsContext> => {
    if (ctx) return ctx;
    const opts = cmd.optsWithGlobals() as { config?: string };
    const { loadConfig, configPath } = await load.config();
    const config = deps.config ?? loadConfig(opts.config ?? configPath());
    ctx = deps.context ? deps.context(config) : (await load.context()).opsContext(config);
    return ctx;
  };
  const gpuFor = async (c: OpsContext, instanceId?: string) => (deps.gpu
    ? deps.gpu(c, instanceId)
    : (await load.gpu()).gpuControlFor(c.config, { ec2: c.aws.ec2, cloudwatch: c.aws.cloudwatch, instanceId }));

  const program = cliProgram('ziggie', 'Day-2 operations for the Ziggie Cloud (AWS GPU, secrets, cost, health, audit; Hostinger VPS)',
    { out: (s) => io.stdout.write(s), err: (s) => io.stderr.write(s) })
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
    .hook('preAction', (_, action) => { json = Boolean(action.optsWithGlobals().json); });

  // ── gpu ──────────────────────────────────────────────────────────────────────────────────────────
  const gpu = program.command('gpu').description('start, stop and inspect the ComfyUI GPU instance');
  const instanceOpt = () => new Option('--instance-id <id>', 'act on this instance instead of the one tagged Role=comfyui-gpu');
  const printAnswer = (a: GpuAnswer) => {
    out(a.message);
    const rows: [string, string | undefined][] = [
      ['instance', a.instanceId && `${a.instanceId} (${a.instanceType}, ${a.lifecycle}, ${a.availabilityZone})`],
      ['state', `${a.state}${a.ec2State ? ` (EC2: ${a.ec2State})` : ''}`],
      ['url', a.url ? `${a.url}${a.ready ? '' : ' (not answering yet)'}` : undefined],
      ['launched', a.launchTime],
      ['uptime', a.uptimeSeconds === undefined ? undefined : duration(a.uptimeSeconds)],
      ['session cost', a.cost && `${usd(a.cost.sessionUsd)} so far at ${usd(a.cost.usdPerHour, 3)}/h (${a.cost.source})`],
      ['retry in', a.retryAfterSeconds === undefined || !a.retryable ? undefined : `${a.retryAfterSeconds} s`],
      ['stand-in for', a.fallback && a.fallback.market !== 'none' ? `${a.fallback.standsInFor} (no Spot capacity): ${a.fallback.market} at `
        + `${a.fallback.usdPerHour === undefined ? 'an unknown price' : `${usd(a.fallback.usdPerHour, 3)}/h`}` : undefined],
      ['tried', a.fallback?.tried?.length ? a.fallback.tried.map((t) => `${t.instanceType} ${t.market} ${t.availabilityZone}: ${t.error}`).join('; ') : undefined],
    ];
    for (const [k, v] of rows) if (v) out(`  ${k.padEnd(12)} ${v}`);
  };
  const gpuExit = (a: GpuAnswer, wanted?: 'running') => {
    if (['not-found', 'terminated', 'unavailable'].includes(a.state)) fail();
    if (wanted === 'running' && !(a.state === 'running' && a.ready)) fail();
  };
  const waitOpts = (c: OpsContext, timeoutMin: number) => ({
    timeoutMs: timeoutMin * 60_000,
    sleep: deps.sleep,
    onProgress: (a: GpuAnswer, ms: number) => err(`[${duration(Math.round(ms / 1000))}] ${a.message}${a.cost ? ` · ${usd(a.cost.sessionUsd)} so far` : ''}`),
  });

  gpu.command('start').description('start the GPU (idempotent); --wait until ComfyUI answers')
    .option('--wait', 'wait until ComfyUI answers, with progress').option('--timeout <minutes>', 'give up waiting after', minutes, 10)
    .addOption(instanceOpt())
    .action(async (o: { wait?: boolean; timeout: number; instanceId?: string }, cmd: Command) => {
      const c = await context(cmd);
      const control = await gpuFor(c, o.instanceId);
      let a = await c.audit.run('gpu.start', o.instanceId ?? 'gpu', () => control.start(),
        (r) => ({ result: r.changed ? 'ok' : 'no-change', target: r.instanceId, detail: { state: r.state, message: r.message } }));
      if (o.wait && ['starting', 'running'].includes(a.state) && !a.ready) {
        if (!json) err(a.message);
        a = await (await load.gpu()).waitUntilReady(control, waitOpts(c, o.timeout));
      }
      emit(a, () => printAnswer(a));
      gpuExit(a, o.wait ? 'running' : undefined);
    });

  gpu.command('stop').description('stop the GPU (idempotent)').addOption(instanceOpt())
    .action(async (o: { instanceId?: string }, cmd: Command) => {
      const c = await context(cmd);
      const control = await gpuFor(c, o.instanceId);
      const a = await c.audit.run('gpu.stop', o.instanceId ?? 'gpu', () => control.stop(),
        (r) => ({ result: r.changed ? 'ok' : 'no-change', target: r.instanceId, detail: { state: r.state, sessionUsd: r.cost?.sessionUsd } }));
      emit(a, () => printAnswer(a));
      gpuExit(a);
    });

  gpu.command('status').description('state, uptime, URL and this session\'s cost so far').addOption(instanceOpt())
    .action(async (o: { instanceId?: string }, cmd: Command) => {
      const a = await (await gpuFor(await context(cmd), o.instanceId)).status();
      emit(a, () => printAnswer(a));
      gpuExit(a);
    });

  gpu.command('url').description('the ComfyUI URL (exit 1 while it is not answering)')
    .option('--wait', 'wait until ComfyUI answers').option('--timeout <minutes>', 'give up waiting after', minutes, 10).addOption(instanceOpt())
    .action(async (o: { wait?: boolean; timeout: number; instanceId?: string }, cmd: Command) => {
      const c = await context(cmd);
      const control = await gpuFor(c, o.instanceId);
      let a = await control.status();
      if (o.wait && a.state === 'starting') a = await (await load.gpu()).waitUntilReady(control, waitOpts(c, o.timeout));
      emit({ url: a.url ?? null, ready: a.ready, state: a.state, message: a.message }, () => {
        if (a.url && a.ready) out(a.url);
        else err(`no ComfyUI URL yet: ${a.message}${a.state === 'stopped' ? ' (npm run ziggie -- gpu start --wait)' : ''}`);
      });
      if (!(a.url && a.ready)) fail();
    });

  gpu.command('submit').description('queue a ComfyUI workflow (API format) as a job; --wait for its outputs\' URLs')
    .argument('<workflow.json>', 'the workflow, exported from ComfyUI with "Export (API)"')
    .option('--wait', 'wait for result.json, then print the output URLs').option('--timeout <minutes>', 'give up waiting after', '30')
    .option('--job-id <id>', 'the job id (default: a random UUID); submitting the same id twice produces one result')
    .option('--callback-url <url>', 'POST result.json here when done')
    .action(async (file: string, o: { wait?: boolean; timeout: string; jobId?: string; callbackUrl?: string }, cmd: Command) => {
      const minutes = Number(o.timeout);
      if (!Number.isFinite(minutes) || minutes <= 0) { err(`--timeout ${o.timeout}: a number of minutes`); return fail(2); }
      const { parseWorkflow, submitJob, submitTarget, UsageError, waitForResult } = await load.submit();
      let workflow: Record<string, unknown>;
      try {
        workflow = parseWorkflow(readFileSync(file, 'utf8'), file);
      } catch (e) {
        err(e instanceof UsageError ? e.message : `${file}: ${(e as Error).message}`);
        return fail(2);
      }
      const c = await context(cmd);
      const target = submitTarget(c.config);
      const { awsClients } = await load.clients();
      const clients = { sqs: c.aws.sqs ?? awsClients(c.config).sqs!, s3: c.aws.s3 ?? awsClients(c.config).s3! };
      let sent;
      try {
        sent = await c.audit.run('gpu.submit', o.jobId ?? 'new job', () => submitJob(clients, target, { workflow, jobId: o.jobId, callbackUrl: o.callbackUrl }),
          (r) => ({ result: 'ok', target: r.jobId, detail: { messageId: r.messageId } }));
      } catch (e) {
        if (e instanceof UsageError) { err(e.message); return fail(2); }
        throw e;
      }
      if (!o.wait) {
        emit(sent, () => { out(sent.jobId); err(`queued; results under ${sent.resultUrl.replace(/result\.json$/, '')}`); });
        return;
      }
      if (!json) err(`queued ${sent.jobId}; waiting for ${sent.resultUrl}`);
      const result = await waitForResult(clients, target, sent.jobId, {
        timeoutMs: minutes * 60_000, sleep: deps.sleep,
        onWait: json ? undefined : (ms) => err(`[${duration(Math.round(ms / 1000))}] waiting for ${sent.jobId}`),
      });
      if (!result) {
        emit({ ...sent, done: false }, () => err(`no result after ${minutes} min; the job stays queued, its result will be ${sent.resultUrl}`));
        return fail(1);
      }
      emit({ ...sent, done: true, outputs: result.outputs.map((x) => x.url), result }, () => {
        out(sent.jobId);
        for (const x of result.outputs) out(x.url);
      });
    });

  // ── secrets ──────────────────────────────────────────────────────────────────────────────────────
  const secrets = program.command('secrets').description('list, put and get Secrets Manager values (never via argv)');
  secrets.command('list').description('every configured secret: set, empty or missing, and when it last changed')
    .action(async (_: unknown, cmd: Command) => {
      const c = await context(cmd);
      const list = await (await load.secrets()).listSecrets(c.aws.secrets, c.config);
      emit(list, () => {
        out(table(['secret', 'status', 'last changed'], list.map((s) => [s.name, s.status, s.lastChanged?.slice(0, 16).replace('T', ' ')])));
        const empty = list.filter((s) => s.status !== 'set' && s.configured);
        if (empty.length) out(`\n${empty.length} without a value: npm run ziggie -- secrets put <name>  (reads stdin or prompts)`);
      });
      if (list.some((s) => s.configured && s.status === 'missing')) fail();
    });

  secrets.command('put <name>').description('store a value read from stdin or a no-echo prompt')
    .action(async (name: string, _: unknown, cmd: Command) => {
      const c = await context(cmd);
      const value = await readSecretInput(name, { stdin: io.stdin, stderr: io.stderr });
      const r = await (await load.secrets()).putSecret(c.aws.secrets, c.audit, c.config, name, value);
      emit({ name: r.name, versionId: r.versionId, stored: true }, () => out(`stored ${r.name} (version ${r.versionId ?? '?'})`));
    });

  secrets.command('get <name>').description('show a secret\'s metadata; the value only with --reveal (audited)')
    .option('--reveal', 'print the value')
    .action(async (name: string, o: { reveal?: boolean }, cmd: Command) => {
      const c = await context(cmd);
      const s = await (await load.secrets()).getSecret(c.aws.secrets, c.audit, c.config, name, Boolean(o.reveal));
      emit(s, () => {
        if (o.reveal) out(s.value ?? '');
        else out(`${s.name}: ${'•'.repeat(8)} (${s.length} characters, last changed ${s.lastChanged ?? '?'}; --reveal to show)`);
      });
    });

  // ── cost ─────────────────────────────────────────────────────────────────────────────────────────
  const costCmd = program.command('cost').description('AWS spend by service, forecast and budget, plus the VPS, for a month')
    .option('--month <YYYY-MM>', 'a past month (default: this month to date)', month)
    .action(async (o: { month?: string }, cmd: Command) => {
      const c = await context(cmd);
      const r = await (await load.cost()).costReport({ ce: c.aws.costExplorer, budgets: c.aws.budgets }, c.config, { month: o.month, now: deps.now?.() });
      emit(r, () => {
        out(`${r.month} ${r.complete ? '(whole month)' : `(month to date, ${r.period.start} … ${r.period.end})`}`);
        out(table(['service', 'USD'], [...r.byService.map((s) => [s.service, s.usd.toFixed(2)])]));
        out('');
        const rows: [string, string][] = [
          ['AWS', `${usd(r.awsUsd)}${r.awsForecastUsd !== undefined ? `  (forecast ${usd(r.awsForecastUsd)})` : ''}`],
          ['Hostinger VPS', `${usd(r.vpsMonthlyUsd)}  (fixed monthly, from the config)`],
          ['total', `${usd(r.totalUsd)}${r.totalForecastUsd !== undefined ? `  (forecast ${usd(r.totalForecastUsd)})` : ''}`],
        ];
        for (const [k, v] of rows) out(`${k.padEnd(14)} ${v}`);
        if (r.forecastNote) out(`forecast: ${r.forecastNote}`);
        if (r.budget) {
          const b = r.budget;
          out(`budget ${b.name}: ${b.status.toUpperCase()} — ${usd(b.actualUsd)} of ${usd(b.limitUsd)}${b.forecastUsd !== undefined ? `, forecast ${usd(b.forecastUsd)}` : ''}`
            + `${b.crossed.length ? `; crossed ${b.crossed.map((t) => usd(t, 0)).join(', ')}` : ''}${b.nextThreshold ? `; next alert at ${usd(b.nextThreshold, 0)}` : ''}`);
        }
        if (r.budgetNote) out(`budget: ${r.budgetNote}`);
      });
      if (r.budget?.status === 'over') fail();
    });

  // `cost report`: the same report the monthly Lambda e-mails (cost/report.ts), printed here.
  costCmd.command('report').description('last month\'s cost report (the one e-mailed on the 1st): by service, change, GPU hours, forecast')
    .option('--month <YYYY-MM>', 'a whole past month (default: last month)', month)
    .option('--weekly', 'the weekly digest instead (last 7 days)')
    .option('--html', 'a self-contained HTML page with the daily chart')
    .action(async (o: { month?: string; weekly?: boolean; html?: boolean }, cmd: Command) => {
      const c = await context(cmd);
      const r = await load.costReport();
      const settings = { gpuInstanceType: c.config.gpu.instanceType, vpsMonthlyUsd: c.config.vps.monthlyCostUsd, budgetLimitUsd: c.config.budgets.monthlyLimitUsd, thresholdsUsd: c.config.budgets.thresholdsUsd };
      const now = deps.now?.();
      // `cost` has its own --month; commander may hand the flag to it rather than to `report`
      const m = o.month ?? (cmd.parent?.opts() as { month?: string } | undefined)?.month;
      const doc = o.weekly ? await r.weeklyDigest(c.aws.costExplorer, settings, { now }) : await r.monthlyReport(c.aws.costExplorer, settings, { now, month: m });
      if (o.html) out(r.reportHtml(doc));
      else emit(doc, () => out(r.reportText(doc).trimEnd()));
    });

  // ── health ───────────────────────────────────────────────────────────────────────────────────────
  program.command('health').description('AWS and Hostinger checks, one line each; exit 0 only if all pass')
    .option('--no-ssh', 'skip the SSH check')
    .option('--ssh-user <user>', 'SSH user on the VPS', process.env.ZIGGIE_VPS_SSH_USER ?? 'root')
    .option('--ssh-key <file>', 'SSH private key (default: your agent / ~/.ssh/config)', process.env.ZIGGIE_VPS_SSH_KEY)
    .action(async (o: { ssh: boolean; sshUser: string; sshKey?: string }, cmd: Command) => {
      const c = await context(cmd);
      const control = await gpuFor(c);
      const ssh = o.ssh ? deps.ssh ?? (await load.health()).systemSsh({ host: c.config.vps.publicIp, user: o.sshUser, key: o.sshKey }) : undefined;
      const health = await load.health();
      const results = await health.runChecks(health.healthChecks({
        config: c.config, sts: c.aws.sts, cloudwatch: c.aws.cloudwatch, gpu: control, audit: c.audit, hostinger: c.hostinger, ssh,
      }));
      const passed = results.filter((r) => r.ok).length;
      emit({ ok: passed === results.length, checks: results }, () => {
        const width = Math.max(...results.map((r) => r.name.length));
        for (const r of results) out(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.detail}  (${r.ms} ms)`);
        out(`${passed} passed, ${results.length - passed} failed`);
      });
      if (passed !== results.length) fail();
    });

  // ── audit ────────────────────────────────────────────────────────────────────────────────────────
  const audit = program.command('audit').description('the audit trail of mutating commands');
  const printRecords = (records: AuditRecord[]) => out(table(['time', 'who', 'action', 'target', 'result', 'ms'],
    records.map((r) => [r.time.slice(0, 19).replace('T', ' '), r.who.replace(/^arn:aws:(sts|iam)::\d+:/, ''), r.action, r.target,
      r.result === 'error' ? `error: ${r.error ?? ''}`.slice(0, 60) : r.result, r.durationMs])));
  audit.command('tail').description('the latest records from CloudWatch (and any still waiting locally)')
    .option('--since <age>', 'how far back: 30m, 24h, 7d', since, '24h').option('-n, --limit <n>', 'records', intIn(1, 10_000), 20)
    .option('--follow', 'keep polling for new records')
    .action(async (o: { since: string; limit: number; follow?: boolean }, cmd: Command) => {
      const c = await context(cmd);
      await c.audit.flushPending().catch(() => undefined);
      const records = await c.audit.tail({ sinceMs: parseSince(o.since), limit: o.limit });
      const pending = c.audit.pending();
      emit({ records, pendingLocal: pending }, () => {
        printRecords(records);
        if (pending.length) out(`\n${pending.length} more waiting in ${c.audit.spoolFile} (sent on the next command that reaches CloudWatch)`);
      });
      if (o.follow) {
        let last = records.length ? Date.parse(records[records.length - 1].time) + 1 : Date.now();
        for (;;) {
          await (deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(5000);
          const more = await c.audit.tail({ startTime: last, limit: 1000 });
          for (const r of more) out(json ? JSON.stringify(r) : `${r.time.slice(0, 19).replace('T', ' ')}  ${r.who}  ${r.action}  ${r.target}  ${r.result}`);
          if (more.length) last = Date.parse(more[more.length - 1].time) + 1;
        }
      }
    });
  audit.command('flush').description('send records waiting in the local spool to CloudWatch')
    .action(async (_: unknown, cmd: Command) => {
      const r = await (await context(cmd)).audit.flushPending();
      emit(r, () => out(`sent ${r.sent}, still waiting ${r.remaining}${r.rejected ? `, ${r.rejected} too old for CloudWatch (kept in audit-rejected.jsonl)` : ''}`));
      if (r.remaining) fail();
    });

  // ── vps (Hostinger) ─────────────────────────────────────────────────────────────────────────────
  const vps = program.command('vps').description('the Hostinger VPS: status, snapshot, restore, firewall');
  vps.command('status').action(async (_: unknown, cmd: Command) => {
    const c = await context(cmd);
    const client = await c.hostinger();
    const [vm, snap] = await Promise.all([client.getVirtualMachine(c.config.vps.hostingerVmId), client.getSnapshot(c.config.vps.hostingerVmId)]);
    emit({ vm, snapshot: snap }, () => {
      out(`VM ${vm.id} ${vm.state} — ${vm.hostname} ${vm.ipv4?.map((i) => i.address).join(', ') ?? ''} (${vm.plan ?? '?'}, ${vm.cpus} vCPU, ${Math.round(vm.memory / 1024)} GB)`);
      out(`firewall: ${vm.firewall_group_id ?? 'none'}; actions: ${vm.actions_lock}`);
      out(snap ? `snapshot: ${snap.created_at} (expires ${snap.expires_at})` : 'snapshot: none');
    });
  });
  vps.command('snapshot').description('snapshot the VPS now (replaces its one existing snapshot)')
    .option('--no-wait', 'return once requested').option('--reason <text>', 'why (goes into the audit record)')
    .action(async (o: { wait: boolean; reason?: string }, cmd: Command) => {
      const c = await context(cmd);
      const r = await (await load.snapshot()).snapshotBeforeChange(c.config, { context: c, wait: o.wait, reason: o.reason, log: (l) => err(l) });
      emit(r, () => out(`snapshot ${r.action.state}${r.snapshot ? `: ${r.snapshot.created_at}` : ''} (action #${r.action.id})`));
    });
  vps.command('restore').description('restore the VPS to its snapshot (everything since is lost)')
    .option('--yes', 'really restore').option('--no-wait', 'return once requested').option('--reason <text>', 'why')
    .action(async (o: { yes?: boolean; wait: boolean; reason?: string }, cmd: Command) => {
      const c = await context(cmd);
      if (!o.yes) {
        const snap = await (await c.hostinger()).getSnapshot(c.config.vps.hostingerVmId);
        err(snap ? `would restore VPS ${c.config.vps.hostingerVmId} to its snapshot of ${snap.created_at}; run again with --yes` : 'the VPS has no snapshot');
        fail(snap ? 2 : 1);
        return;
      }
      const r = await (await load.snapshot()).restoreLatestSnapshot(c.config, { context: c, wait: o.wait, reason: o.reason, log: (l) => err(l) });
      emit(r, () => out(`restore ${r.action.state} (snapshot of ${r.snapshot.created_at}, action #${r.action.id})`));
    });
  vps.command('firewall').description('converge the Hostinger firewall: SSH from vps.sshAllowlist, HTTP/HTTPS from anywhere')
    .option('--check', 'show what would change, change nothing').option('--no-prune', 'keep rules the config does not name')
    .action(async (o: { check?: boolean; prune: boolean }, cmd: Command) => {
      const c = await context(cmd);
      const client = await c.hostinger();
      const fw = await load.firewall();
      const params = { name: fw.firewallName(c.config), vmId: c.config.vps.hostingerVmId, rules: fw.desiredFirewallRules(c.config), check: o.check, prune: o.prune };
      const r = o.check
        ? await fw.syncFirewall(client, params)
        : await c.audit.run('vps.firewall', `hostinger-firewall/${params.name}`, () => fw.syncFirewall(client, params),
          (x) => ({ result: x.changed ? 'ok' : 'no-change', detail: { added: x.add.length, removed: x.remove.length, activated: x.activate } }));
      emit(r, () => {
        if (!r.changed) return out(`firewall ${r.firewallName}: in sync`);
        if (r.create) out(`${r.applied ? '' : 'would '}create firewall ${r.firewallName}`);
        for (const a of r.add) out(`${r.applied ? '+' : 'would add'} ${a.protocol} ${a.port} from ${a.source_detail}`);
        for (const x of r.remove) out(`${r.applied ? '-' : 'would remove'} ${x.protocol} ${x.port} from ${x.source_detail}`);
        if (r.activate) out(`${r.applied ? 'activated' : 'would activate'} on VM ${params.vmId}`);
        else if (r.sync) out(`${r.applied ? 'synced' : 'would sync'} to VM ${params.vmId}`);
      });
    });

  // ── dns (Hostinger) ─────────────────────────────────────────────────────────────────────────────
  const dns = program.command('dns').description('Hostinger DNS zone records');
  dns.command('get <domain>').action(async (domain: string, _: unknown, cmd: Command) => {
    const zone = await (await (await context(cmd)).hostinger()).getDnsZone(domain);
    emit(zone, () => out(table(['name', 'type', 'ttl', 'content'], zone.map((r) => [r.name, r.type, r.ttl, r.records.map((x) => x.content).join(' | ')]))));
  });
  dns.command('set').description('replace the records of one name+type')
    .argument('<domain>').argument('<name>').addArgument(new Argument('<type>', 'record type').argParser(dnsType)).argument('<content...>')
    .option('--ttl <seconds>', 'TTL', intIn(60, 86_400), 3600)
    .action(async (domain: string, name: string, type: DnsRecordType, content: string[], o: { ttl: number }, cmd: Command) => {
      const c = await context(cmd);
      const client = await c.hostinger();
      const record = { name, type, ttl: o.ttl, records: content.map((x) => ({ content: x })) };
      await c.audit.run('dns.set', `${domain}/${name}/${record.type}`, () => client.updateDnsZone(domain, [record], { overwrite: true }),
        () => ({ detail: { ttl: record.ttl, records: content } }));
      emit({ domain, ...record, updated: true }, () => out(`${name}.${domain} ${record.type} → ${content.join(', ')} (ttl ${record.ttl})`));
    });

  deps.extend?.(program, {
    out, err, fail, context,
    configFile: async (cmd) => (cmd.optsWithGlobals() as { config?: string }).config ?? (await load.config()).configPath(),
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if ((e as Error)?.name === 'ConfigError') {
      err((e as Error).message);
      return 2;
    }
    const line = await describeError(e);
    if (json) out(JSON.stringify({ error: line }));
    else err(`ziggie: ${line}`);
    return 1;
  }
  return exitCode;
}

/** Any error → one line with what to do next. */
export async function describeError(e: unknown): Promise<string> {
  const [{ HostingerApiError }, { MissingTokenError }, { explainAwsError }] = await Promise.all([load.hostinger(), load.token(), load.errors()]);
  if (e instanceof HostingerApiError) return `${e.message.split('\n')[0]} — ${e.hint}`;
  if (e instanceof MissingTokenError) return e.message;
  const name = (e as { name?: string })?.name;
  if (e instanceof Error && (name === 'Error' || name === 'TypeError' || name === 'GpuNotFoundError') && !(e as { $metadata?: unknown }).$metadata) {
    return e.message.split('\n')[0];
  }
  return explainAwsError(e);
}
