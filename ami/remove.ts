/**
 * How each kind of thing a bake creates is removed — the one implementation behind the bake's cleanup stack and
 * `--sweep`. Each waits for what must be gone before the next removal can succeed, and none can be interrupted:
 * an interrupted removal would leak.
 */
import {
  DeleteKeyPairCommand, DeleteSecurityGroupCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand,
  DescribeInstancesCommand, TerminateInstancesCommand, type EC2Client, type Image, type Instance,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../shared/aws-errors';
import { DEFAULT_TIMEOUTS, POLL_MS, type BakeDeps, type BakeTimeouts } from './types';
import { poll } from './wait';

type Ec2 = Pick<EC2Client, 'send'>;

export interface RemoveContext {
  ec2: Ec2;
  sleep: BakeDeps['sleep'];
  now: BakeDeps['now'];
  timeouts: BakeTimeouts;
}

export function removeContext(deps: Pick<BakeDeps, 'ec2' | 'sleep' | 'now'>, timeouts?: Partial<BakeTimeouts>): RemoveContext {
  return { ec2: deps.ec2, sleep: deps.sleep, now: deps.now, timeouts: { ...DEFAULT_TIMEOUTS, ...(timeouts ?? {}) } };
}

/** The instances by id; none while EC2 does not list a just-launched instance yet (eventual consistency). */
export async function describeInstances(ec2: Ec2, ids: string[]): Promise<Instance[]> {
  try {
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  } catch (e) {
    if (awsErrorCode(e) === 'InvalidInstanceID.NotFound') return [];
    throw e;
  }
}

/** Terminate, then wait until every one is terminated (their security group is in use until then). */
export async function terminateInstances(ctx: RemoveContext, ids: string[]): Promise<void> {
  await ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  await poll(async () => {
    const all = await describeInstances(ctx.ec2, ids);
    return all.length && all.every((i) => i.State?.Name === 'terminated') ? true : undefined;
  }, { what: `builder ${ids.join(', ')} terminated`, intervalMs: POLL_MS.instance, timeoutMs: ctx.timeouts.terminated, sleep: ctx.sleep, now: ctx.now });
}

/** Delete, retrying while a terminated instance's network interface still holds the group; gone already is done. */
export async function deleteSecurityGroup(ctx: RemoveContext, groupId: string): Promise<void> {
  await poll(async () => {
    try {
      await ctx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      return true;
    } catch (e) {
      if (awsErrorCode(e) === 'DependencyViolation') return undefined;
      if (awsErrorCode(e) === 'InvalidGroup.NotFound') return true;
      throw e;
    }
  }, { what: `security group ${groupId} released`, intervalMs: POLL_MS.securityGroup, timeoutMs: ctx.timeouts.securityGroupRelease, sleep: ctx.sleep, now: ctx.now });
}

export async function deleteKeyPair(ec2: Ec2, keyPairId: string): Promise<void> {
  await ec2.send(new DeleteKeyPairCommand({ KeyPairId: keyPairId }));
}

export async function deleteSnapshot(ec2: Ec2, snapshotId: string): Promise<void> {
  await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
}

export function snapshotIds(image: Image | undefined): string[] {
  return (image?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

/**
 * Deregister an image and delete its snapshots. Without `snapshots` they are looked up first (a pending image's
 * snapshots may not be known yet: --sweep finds those by tag).
 */
export async function deleteImage(ec2: Ec2, imageId: string, snapshots?: string[]): Promise<void> {
  const snaps = snapshots ?? snapshotIds((await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0]);
  await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
  for (const s of snaps) await deleteSnapshot(ec2, s);
}
