/**
 * `ziggie health`: one line per check, and an exit code that says whether all passed.
 * AWS: caller identity (and that it is the configured account), the GPU's state, the project's alarms, the
 * local audit spool. Hostinger: the API (VM state) and SSH (reachable, with a container summary). The Hostinger
 * API and SSH go through circuit breakers; every check has its own timeout and they run in parallel.
 */
import { execFile } from 'node:child_process';
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { ZiggieConfig } from '../config/schema';
import type { AuditLog } from './audit/audit';
import { explainAwsError } from './aws/errors';
import type { GpuControl } from '../gpu-control/control';
import { HostingerApiError, type HostingerClient } from './hostinger/client';
import { withBreaker } from './resilience/breaker';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
  /** Informational checks never fail the run. */
  skipped?: boolean;
}

export type Check = { name: string; run: () => Promise<{ ok: boolean; detail: string; skipped?: boolean }> };

/** Run checks in parallel, each with a timeout; a thrown error is a failed check with a one-line reason. */
export async function runChecks(checks: Check[], timeoutMs = 20_000): Promise<CheckResult[]> {
  return Promise.all(checks.map(async (c) => {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        c.run(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
      ]);
      return { name: c.name, ...r, ms: Date.now() - started };
    } catch (err) {
      const detail = err instanceof HostingerApiError ? `${err.message.split('\n')[0]} — ${err.hint}` : explainAwsError(err);
      return { name: c.name, ok: false, detail, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }));
}

export function identityCheck(sts: Pick<STSClient, 'send'>, accountId: string): Check {
  return {
    name: 'aws.identity',
    run: async () => {
      const id = await sts.send(new GetCallerIdentityCommand({}));
      if (id.Account !== accountId) return { ok: false, detail: `${id.Arn} is in account ${id.Account}, the config says ${accountId}: wrong AWS_PROFILE?` };
      return { ok: true, detail: `${id.Arn}` };
    },
  };
}

export function gpuCheck(control: Pick<GpuControl, 'status'>): Check {
  return {
    name: 'aws.gpu',
    run: async () => {
      const a = await control.status();
      const ok = !['not-found', 'terminated', 'unavailable'].includes(a.state);
      const cost = a.cost ? `, session ≈ $${a.cost.sessionUsd.toFixed(2)}` : '';
      return { ok, detail: `${a.instanceId ?? '-'} ${a.state}${a.url && a.ready ? ` ${a.url}` : ''}${cost}${ok ? '' : `: ${a.message}`}` };
    },
  };
}

/** Alarms named `<project>-…`. An idle alarm in ALARM is the idle-stop doing its job, not a failure. */
export function alarmsCheck(cw: Pick<CloudWatchClient, 'send'>, project: string): Check {
  return {
    name: 'aws.alarms',
    run: async () => {
      const alarms: { name: string; state: string }[] = [];
      let NextToken: string | undefined;
      do {
        const out = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${project}-`, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken }));
        for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) alarms.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? '?' });
        NextToken = out.NextToken;
      } while (NextToken);
      if (alarms.length === 0) return { ok: true, detail: `no alarms named ${project}-* (gpu stack not deployed?)` };
      const counts = new Map<string, number>();
      for (const a of alarms) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
      const firing = alarms.filter((a) => a.state === 'ALARM' && !/-idle(-|$)/.test(a.name));
      const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
      return { ok: firing.length === 0, detail: firing.length ? `${summary}; firing: ${firing.map((a) => a.name).join(', ')}` : summary };
    },
  };
}

export function auditSpoolCheck(audit: AuditLog): Check {
  return {
    name: 'aws.audit',
    run: async () => {
      const { sent, remaining } = await audit.flushPending();
      if (remaining > 0) return { ok: false, detail: `${remaining} audit records waiting in ${audit.spoolFile} (CloudWatch not taking them)` };
      return { ok: true, detail: sent ? `sent ${sent} spooled records` : 'nothing waiting locally' };
    },
  };
}

export function hostingerApiCheck(client: () => Promise<HostingerClient>, vmId: number): Check {
  return {
    name: 'hostinger.api',
    run: async () => {
      const vm = await (await client()).getVirtualMachine(vmId);
      const ip = vm.ipv4?.[0]?.address ?? '-';
      return { ok: vm.state === 'running', detail: `VM ${vm.id} ${vm.state} (${vm.hostname}, ${ip}, firewall ${vm.firewall_group_id ?? 'none'})` };
    },
  };
}

export type RemoteRun = (command: string) => Promise<string>;

/** Run a command on the VPS with the system ssh (your keys, agent and ~/.ssh/config; host key must be known). */
export function systemSsh(opts: { host: string; user: string; key?: string; connectTimeoutSeconds?: number }): RemoteRun {
  return (command) => new Promise((resolve, reject) => {
    const args = ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${opts.connectTimeoutSeconds ?? 8}`, '-o', 'StrictHostKeyChecking=yes',
      ...(opts.key ? ['-i', opts.key] : []), `${opts.user}@${opts.host}`, command];
    execFile('ssh', args, { timeout: 20_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ssh ${opts.user}@${opts.host}: ${String(stderr || err.message).trim().split('\n').pop()}`));
      else resolve(stdout);
    });
  });
}

/** Parse `docker ps -a --format '{{json .}}'`. */
export function containerSummary(output: string, expected: string[]): { ok: boolean; detail: string } {
  const rows = output.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as { Names: string; State: string; Status: string });
  const running = rows.filter((r) => r.State === 'running');
  const unhealthy = rows.filter((r) => r.State === 'running' && /unhealthy/.test(r.Status));
  const notRunning = rows.filter((r) => r.State !== 'running');
  const names = new Set(rows.map((r) => r.Names));
  const missing = expected.filter((e) => ![...names].some((n) => n === e || n.endsWith(`-${e}`) || n.endsWith(`_${e}`) || n.includes(`-${e}-`)));
  const problems = [
    ...notRunning.map((r) => `${r.Names} ${r.State}`),
    ...unhealthy.map((r) => `${r.Names} unhealthy`),
    ...missing.map((m) => `${m} missing`),
  ];
  return { ok: problems.length === 0, detail: `${running.length}/${rows.length} containers running${problems.length ? `; ${problems.join(', ')}` : ''}` };
}

export function sshCheck(run: RemoteRun, expected: string[]): Check {
  const { fire } = withBreaker('VPS SSH', run, { volumeThreshold: 2 });
  return {
    name: 'hostinger.ssh',
    run: async () => containerSummary(await fire(`docker ps -a --format '{{json .}}'`), expected),
  };
}

export function healthChecks(parts: {
  config: ZiggieConfig; sts: Pick<STSClient, 'send'>; cloudwatch: Pick<CloudWatchClient, 'send'>; gpu: Pick<GpuControl, 'status'>;
  audit?: AuditLog; hostinger: () => Promise<HostingerClient>; ssh?: RemoteRun;
}): Check[] {
  const { config } = parts;
  return [
    identityCheck(parts.sts, config.accountId),
    gpuCheck(parts.gpu),
    alarmsCheck(parts.cloudwatch, config.project),
    ...(parts.audit ? [auditSpoolCheck(parts.audit)] : []),
    hostingerApiCheck(parts.hostinger, config.vps.hostingerVmId),
    ...(parts.ssh ? [sshCheck(parts.ssh, config.containers.map((c) => c.name))] : []),
  ];
}
