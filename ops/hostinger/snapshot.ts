/**
 * Snapshots of the Hostinger VPS around risky changes. `provision:vps --snapshot-first` calls
 * `snapshotBeforeChange(config)`; `ziggie vps restore` rolls back with `restoreLatestSnapshot(config)`.
 * A Hostinger VM keeps ONE snapshot: creating a new one replaces the previous one.
 */
import type { ZiggieConfig } from '../../config/schema';
import { opsContext, type OpsContext } from '../context';
import { HostingerApiError } from './client';
import type { Action, Snapshot } from './types';

export interface SnapshotOptions {
  /** Reuse a context (clients, audit); default builds one from the config. */
  context?: OpsContext;
  /** Wait for the action to finish (default true). */
  wait?: boolean;
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Why (goes into the audit record). */
  reason?: string;
}

export interface SnapshotResult {
  vmId: number;
  /** The snapshot this one replaced (Hostinger keeps one). */
  replaced: Snapshot | null;
  action: Action;
  snapshot: Snapshot | null;
}

export async function snapshotBeforeChange(config: ZiggieConfig, opts: SnapshotOptions = {}): Promise<SnapshotResult> {
  const ctx = opts.context ?? opsContext(config);
  const vmId = config.vps.hostingerVmId;
  const log = opts.log ?? (() => undefined);
  return ctx.audit.run('vps.snapshot', `hostinger-vm/${vmId}`, async () => {
    const client = await ctx.hostinger();
    const vm = await client.getVirtualMachine(vmId);
    if (vm.actions_lock === 'locked') {
      throw new HostingerApiError('validation', `VPS ${vmId} is busy with another action (actions_lock=locked); retry when it finishes`);
    }
    const replaced = await client.getSnapshot(vmId);
    if (replaced) log(`replacing the snapshot of ${replaced.created_at} (Hostinger keeps one)`);
    let action = await client.createSnapshot(vmId);
    log(`snapshot of VPS ${vmId} requested (action #${action.id}, ${action.state})`);
    if (opts.wait ?? true) {
      action = await client.waitForAction(vmId, action, {
        timeoutMs: opts.timeoutMs, intervalMs: opts.pollIntervalMs, onPoll: (a) => log(`  action #${a.id}: ${a.state}`),
      });
    }
    const snapshot = action.state === 'success' ? await client.getSnapshot(vmId) : null;
    return { vmId, replaced, action, snapshot };
  }, (r) => ({ detail: { actionId: r.action.id, state: r.action.state, snapshotId: r.snapshot?.id, reason: opts.reason } }));
}

export async function restoreLatestSnapshot(config: ZiggieConfig, opts: SnapshotOptions = {}): Promise<{ vmId: number; snapshot: Snapshot; action: Action }> {
  const ctx = opts.context ?? opsContext(config);
  const vmId = config.vps.hostingerVmId;
  const log = opts.log ?? (() => undefined);
  return ctx.audit.run('vps.restore', `hostinger-vm/${vmId}`, async () => {
    const client = await ctx.hostinger();
    const snapshot = await client.getSnapshot(vmId);
    if (!snapshot) throw new HostingerApiError('not-found', `VPS ${vmId} has no snapshot to restore`);
    log(`restoring VPS ${vmId} to its snapshot of ${snapshot.created_at} (about ${snapshot.restore_time ?? '?'} s)`);
    let action = await client.restoreSnapshot(vmId);
    if (opts.wait ?? true) {
      action = await client.waitForAction(vmId, action, {
        timeoutMs: opts.timeoutMs, intervalMs: opts.pollIntervalMs, onPoll: (a) => log(`  action #${a.id}: ${a.state}`),
      });
    }
    return { vmId, snapshot, action };
  }, (r) => ({ detail: { actionId: r.action.id, state: r.action.state, snapshotId: r.snapshot.id, reason: opts.reason } }));
}
