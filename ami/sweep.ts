/**
 * `npm run bake-ami -- --sweep`: remove what crashed bakes left, found by the `ziggie:bake-ami` tag, with the same
 * removals the bake's own cleanup uses (ami/remove.ts) and the same report (ami/cleanup.ts).
 */
import {
  DescribeImagesCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { ZiggieConfig } from '../config/schema';
import { awsErrorCode } from '../shared/aws-errors';
import { removeNow, type CleanupFailure } from './cleanup';
import {
  deleteImage, deleteKeyPair, deleteSecurityGroup, deleteSnapshot, removeContext, snapshotIds, terminateInstances,
} from './remove';
import { BAKE_TAG, type BakeDeps, type BakeTimeouts } from './types';

export interface SweepOptions {
  config: ZiggieConfig;
  /** list only */
  dryRun?: boolean;
  timeouts?: Partial<BakeTimeouts>;
}

export interface SweepResult {
  found: string[];
  removed: string[];
  failed: CleanupFailure[];
}

/**
 * Removes what crashed bakes left: builders, their key pairs and security groups (tag ziggie:bake-ami=builder),
 * and unpublished images and snapshots (=image-unpublished) except the image the SSM parameter names. Do not run
 * it while a bake is running: it would remove that bake's builder too.
 */
export async function sweep(deps: Pick<BakeDeps, 'ec2' | 'ssm' | 'sleep' | 'now' | 'log'>, opts: SweepOptions): Promise<SweepResult> {
  const { ec2, ssm } = deps;
  const ctx = removeContext(deps, opts.timeouts);
  const byTag = (value: string) => [{ Name: `tag:${BAKE_TAG}`, Values: [value] }];
  const result: SweepResult = { found: [], removed: [], failed: [] };
  // Each kind is removed as soon as it is found: the groups are only free once the builders are gone.
  const remove = async (label: string, fn: () => Promise<void>): Promise<void> => {
    result.found.push(label);
    if (opts.dryRun) return deps.log(`  would remove ${label}`);
    const failure = await removeNow(label, fn, deps.log);
    if (failure) result.failed.push(failure);
    else result.removed.push(label);
  };

  const inst = await ec2.send(new DescribeInstancesCommand({
    Filters: [...byTag('builder'), { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
  }));
  const ids = (inst.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).filter(Boolean);
  if (ids.length) await remove(`builder instance(s) ${ids.join(', ')}`, () => terminateInstances(ctx, ids));

  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: byTag('builder') }))).SecurityGroups ?? [];
  for (const g of groups) await remove(`security group ${g.GroupId} (${g.GroupName})`, () => deleteSecurityGroup(ctx, g.GroupId!));

  const keys = (await ec2.send(new DescribeKeyPairsCommand({ Filters: byTag('builder') }))).KeyPairs ?? [];
  for (const k of keys) await remove(`key pair ${k.KeyPairId} (${k.KeyName})`, () => deleteKeyPair(ec2, k.KeyPairId!));

  let published: string | undefined;
  try {
    published = (await ssm.send(new GetParameterCommand({ Name: opts.config.gpu.amiSsmParameter }))).Parameter?.Value;
  } catch (e) {
    if (awsErrorCode(e) !== 'ParameterNotFound') throw e;
  }
  const images = ((await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: byTag('image-unpublished') }))).Images ?? [])
    .filter((i) => i.ImageId !== published);
  const imageSnaps = new Set<string>();
  for (const i of images) {
    const snaps = snapshotIds(i);
    snaps.forEach((s) => imageSnaps.add(s));
    await remove(`unpublished image ${i.ImageId} (${i.Name}) and its snapshots`, () => deleteImage(ec2, i.ImageId!, snaps));
  }
  // Snapshots of an image that was deregistered before they were known (an interrupted image wait).
  const publishedSnaps = new Set<string>();
  if (published) {
    const p = (await ec2.send(new DescribeImagesCommand({ ImageIds: [published] }))).Images?.[0];
    snapshotIds(p).forEach((s) => publishedSnaps.add(s));
  }
  const snaps = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: byTag('image-unpublished') }))).Snapshots ?? [];
  for (const s of snaps) {
    if (!s.SnapshotId || imageSnaps.has(s.SnapshotId) || publishedSnaps.has(s.SnapshotId)) continue;
    await remove(`orphaned snapshot ${s.SnapshotId}`, () => deleteSnapshot(ec2, s.SnapshotId!));
  }
  if (!result.found.length) deps.log('  nothing left behind by earlier bakes');
  return result;
}
