/**
 * The audit trail of every mutating ops command: who (the AWS caller identity), what, target, result and
 * duration, as one JSON event in the `audit.logGroup` CloudWatch Logs group.
 *
 * Never lost: when CloudWatch cannot take a record (offline, throttled past the SDK's retries, group missing,
 * access denied) it is appended to a local JSONL spool, and every later command first sends what is spooled.
 * A flush claims the spool by renaming it (atomic), so two processes never send the same batch; a failed send
 * puts the batch back. Records older than CloudWatch's 14-day window move to a `rejected` file beside the spool
 * rather than vanish.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { awsErrorCode } from '../../shared/aws-errors';

/** `refused`: the control plane turned a call away (unknown agent or capability, not granted, bad params). */
/** `rate-limited`: the control center refused the call for the agent's rate limit (HTTP 429) before it ran. */
export type AuditResult = 'ok' | 'no-change' | 'error' | 'refused' | 'rate-limited';

export interface AuditRecord {
  id: string;
  time: string;
  /** AWS caller identity ARN (or `unknown (<local user>)`). */
  who: string;
  localUser: string;
  host: string;
  /** `gpu.start`, `secrets.put`, `vps.snapshot`, … */
  action: string;
  target: string;
  result: AuditResult;
  durationMs: number;
  detail?: Record<string, unknown>;
  error?: string;
}

export interface AuditOptions {
  logs: Pick<CloudWatchLogsClient, 'send'>;
  sts?: Pick<STSClient, 'send'>;
  logGroup: string;
  /** Directory for the spool (`audit-pending.jsonl`) and `audit-rejected.jsonl`. */
  spoolDir?: string;
  streamName?: string;
  now?: () => Date;
}

export interface Delivery {
  delivered: 'cloudwatch' | 'local';
  /** Why CloudWatch did not take it, when it went to the local spool. */
  reason?: string;
  record: AuditRecord;
}

/** CloudWatch refuses events older than 14 days; keep a margin. */
const MAX_AGE_MS = 14 * 24 * 3600_000 - 3600_000;
/** One PutLogEvents batch may not span more than 24 hours, nor exceed 10,000 events / ~1 MB. */
const BATCH_SPAN_MS = 24 * 3600_000 - 60_000;
const BATCH_MAX_EVENTS = 1000;
const STALE_CLAIM_MS = 10 * 60_000;

export function defaultSpoolDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ZIGGIE_STATE_DIR || path.join(os.homedir(), '.ziggie');
}

export class AuditLog {
  readonly spoolFile: string;
  readonly rejectedFile: string;
  private who?: Promise<string>;
  private streamReady = false;
  private readonly now: () => Date;
  private readonly streamName: string;
  private readonly localUser: string;

  constructor(private readonly options: AuditOptions) {
    const dir = options.spoolDir ?? defaultSpoolDir();
    this.spoolFile = path.join(dir, 'audit-pending.jsonl');
    this.rejectedFile = path.join(dir, 'audit-rejected.jsonl');
    this.now = options.now ?? (() => new Date());
    this.localUser = safeUser();
    this.streamName = options.streamName ?? `ziggie-cli/${os.hostname()}`;
  }

  /** The caller identity, asked once per process. */
  identity(): Promise<string> {
    if (!this.who) {
      this.who = this.options.sts
        ? this.options.sts.send(new GetCallerIdentityCommand({}))
          .then((id) => id.Arn ?? `unknown (${this.localUser})`)
          .catch(() => `unknown (${this.localUser})`)
        : Promise.resolve(`unknown (${this.localUser})`);
    }
    return this.who;
  }

  /**
   * Run `fn` and record it. The result is `ok`, or what `classify` says (e.g. `no-change` for an idempotent
   * no-op), or `error` with the message when it throws (the error is rethrown). The audit write never masks the
   * command's own outcome.
   */
  async run<T>(action: string, target: string, fn: () => Promise<T>,
    classify?: (value: T) => { result?: AuditResult; detail?: Record<string, unknown>; target?: string }): Promise<T> {
    const started = Date.now();
    try {
      const value = await fn();
      const c = classify?.(value) ?? {};
      await this.record({ action, target: c.target ?? target, result: c.result ?? 'ok', durationMs: Date.now() - started, detail: c.detail });
      return value;
    } catch (err) {
      await this.record({ action, target, result: 'error', durationMs: Date.now() - started, error: String((err as Error)?.message ?? err).split('\n')[0] });
      throw err;
    }
  }

  /** Record one event: send what is spooled, then this one; on failure spool it. Never throws. */
  async record(entry: Pick<AuditRecord, 'action' | 'target' | 'result' | 'durationMs'> & Partial<Pick<AuditRecord, 'detail' | 'error'>>): Promise<Delivery> {
    const record: AuditRecord = {
      id: randomUUID(),
      time: this.now().toISOString(),
      who: await this.identity(),
      localUser: this.localUser,
      host: os.hostname(),
      ...entry,
    };
    await this.flushPending().catch(() => undefined);
    try {
      const rejected = await this.put([record]);
      if (rejected.length > 0) this.appendLines(this.rejectedFile, rejected);
      return { delivered: 'cloudwatch', record };
    } catch (err) {
      this.appendLines(this.spoolFile, [record]);
      return { delivered: 'local', reason: `${awsErrorCode(err) ?? 'Error'}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, record };
    }
  }

  /** Records waiting in the local spool. */
  pendingCount(): number {
    return this.readSpool(this.spoolFile).length + this.claims().reduce((n, f) => n + this.readSpool(f).length, 0);
  }

  pending(): AuditRecord[] {
    return this.readSpool(this.spoolFile);
  }

  /** Send the spool to CloudWatch. Returns how many went and how many are still waiting. */
  async flushPending(): Promise<{ sent: number; remaining: number; rejected: number }> {
    const claimed: string[] = [];
    if (existsSync(this.spoolFile)) {
      const claim = `${this.spoolFile}.${process.pid}.${Date.now()}.sending`;
      try {
        renameSync(this.spoolFile, claim);
        claimed.push(claim);
      } catch {
        /* another process claimed it first */
      }
    }
    // Claims left behind by a process that died mid-flush.
    for (const stale of this.claims()) {
      if (!claimed.includes(stale) && Date.now() - statSync(stale).mtimeMs > STALE_CLAIM_MS) claimed.push(stale);
    }
    let sent = 0;
    let rejectedCount = 0;
    for (const file of claimed) {
      const records = this.readSpool(file).sort((a, b) => a.time.localeCompare(b.time));
      const cutoff = this.now().getTime() - MAX_AGE_MS;
      const tooOld = records.filter((r) => Date.parse(r.time) < cutoff);
      const sendable = records.filter((r) => Date.parse(r.time) >= cutoff);
      if (tooOld.length) this.appendLines(this.rejectedFile, tooOld);
      rejectedCount += tooOld.length;
      let i = 0;
      try {
        for (const batch of batches(sendable)) {
          const rejected = await this.put(batch);
          if (rejected.length) this.appendLines(this.rejectedFile, rejected);
          rejectedCount += rejected.length;
          sent += batch.length - rejected.length;
          i += batch.length;
        }
      } catch {
        this.appendLines(this.spoolFile, sendable.slice(i));
      }
      unlinkSync(file);
    }
    return { sent, remaining: this.pendingCount(), rejected: rejectedCount };
  }

  /** The latest `limit` records from CloudWatch since `sinceMs` ago (oldest first). */
  async tail(opts: { sinceMs?: number; limit?: number; filterPattern?: string; startTime?: number } = {}): Promise<AuditRecord[]> {
    const startTime = opts.startTime ?? this.now().getTime() - (opts.sinceMs ?? 24 * 3600_000);
    const out: AuditRecord[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await this.options.logs.send(new FilterLogEventsCommand({
        logGroupName: this.options.logGroup, startTime, filterPattern: opts.filterPattern, nextToken,
      }));
      for (const e of res.events ?? []) {
        try {
          out.push(JSON.parse(e.message ?? '') as AuditRecord);
        } catch {
          /* not ours */
        }
      }
      nextToken = res.nextToken;
      if (!nextToken) break;
    }
    out.sort((a, b) => a.time.localeCompare(b.time));
    return out.slice(-(opts.limit ?? 20));
  }

  /** Put events; returns the records CloudWatch rejected (too old/new). Throws when it cannot deliver. */
  private async put(records: AuditRecord[]): Promise<AuditRecord[]> {
    const command = () => new PutLogEventsCommand({
      logGroupName: this.options.logGroup,
      logStreamName: this.streamName,
      logEvents: records.map((r) => ({ timestamp: Date.parse(r.time), message: JSON.stringify(r) })),
    });
    let res;
    try {
      res = await this.options.logs.send(command());
    } catch (err) {
      if (awsErrorCode(err) !== 'ResourceNotFoundException' || this.streamReady) throw err;
      // First write from this host: the stream does not exist yet (the group is the audit stack's).
      try {
        await this.options.logs.send(new CreateLogStreamCommand({ logGroupName: this.options.logGroup, logStreamName: this.streamName }));
      } catch (createErr) {
        if (awsErrorCode(createErr) !== 'ResourceAlreadyExistsException') throw createErr;
      }
      this.streamReady = true;
      res = await this.options.logs.send(command());
    }
    this.streamReady = true;
    const info = res.rejectedLogEventsInfo;
    if (!info) return [];
    return records.filter((_, i) => (info.tooOldLogEventEndIndex !== undefined && i < info.tooOldLogEventEndIndex)
      || (info.tooNewLogEventStartIndex !== undefined && i >= info.tooNewLogEventStartIndex)
      || (info.expiredLogEventEndIndex !== undefined && i < info.expiredLogEventEndIndex));
  }

  private claims(): string[] {
    const dir = path.dirname(this.spoolFile);
    if (!existsSync(dir)) return [];
    const base = path.basename(this.spoolFile);
    return readdirSync(dir).filter((f) => f.startsWith(`${base}.`) && f.endsWith('.sending')).map((f) => path.join(dir, f));
  }

  private readSpool(file: string): AuditRecord[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditRecord];
      } catch {
        return [];
      }
    });
  }

  private appendLines(file: string, records: AuditRecord[]): void {
    if (records.length === 0) return;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
  }
}

function batches(records: AuditRecord[]): AuditRecord[][] {
  const out: AuditRecord[][] = [];
  let current: AuditRecord[] = [];
  for (const r of records) {
    const first = current[0];
    if (first && (current.length >= BATCH_MAX_EVENTS || Date.parse(r.time) - Date.parse(first.time) > BATCH_SPAN_MS)) {
      out.push(current);
      current = [];
    }
    current.push(r);
  }
  if (current.length) out.push(current);
  return out;
}

function safeUser(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `?@${os.hostname()}`;
  }
}
