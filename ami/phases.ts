/**
 * The phases of a bake, in order, each a function of the run so far. Whatever a phase creates it registers on the
 * run's cleanup stack the moment it exists, with a removal from ami/remove.ts (the same ones --sweep uses).
 */
import {
  AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateImageCommand, CreateKeyPairCommand,
  CreateSecurityGroupCommand, CreateTagsCommand, DescribeImagesCommand, DescribeInstanceTypeOfferingsCommand,
  DescribeInstancesCommand, DescribeSubnetsCommand, GetConsoleOutputCommand, RevokeSecurityGroupEgressCommand,
  RunInstancesCommand, StopInstancesCommand, type Image, type Instance, type Tag,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import ipaddr from 'ipaddr.js';
import type { ZiggieConfig } from '../config/schema';
import { awsErrorCode } from '../shared/aws-errors';
import type { ZiggieNames } from '../shared/names';
import type { CleanupEntry, CleanupStack } from './cleanup';
import { ed25519Fingerprint } from './hostkey';
import {
  deleteImage, deleteKeyPair, deleteSecurityGroup, describeInstances, snapshotIds, terminateInstances, type RemoveContext,
} from './remove';
import {
  BAKE_TAG, BakeInputError, POLL_MS, RUN_TAG, toTags, type BakeDeps, type BakeOptions, type BakeTimeouts, type KeyFile,
} from './types';
import { WaitTimeoutError, poll, raceInterrupt, type PollOptions } from './wait';

/** One bake in progress: what every phase reads, and the cleanup stack every phase pushes onto. */
export interface BakeRun {
  deps: BakeDeps;
  opts: BakeOptions;
  config: ZiggieConfig;
  names: ZiggieNames;
  timeouts: BakeTimeouts;
  spot: boolean;
  cleanup: CleanupStack;
  remove: RemoveContext;
  /** the key pair's, security group's and builder's name */
  resourceName: string;
  builderTags: Tag[];
}

export interface BaseImage { imageId: string; rootDevice: string; name: string }
export interface BuilderSubnet { subnetId: string; vpcId: string; az?: string }

/** AMI names: 3-128 of [A-Za-z0-9 ()[]./'@_-]. */
export function imageName(ref: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  const safeRef = ref.replace(/[^A-Za-z0-9().\-_]/g, '_').slice(0, 60);
  return `ziggie-comfyui-${safeRef}-${stamp}`;
}

/** "203.0.113.7" or "203.0.113.0/28" -> a CIDR for the SSH rule; anything else is a BakeInputError. */
export function sshCidr(ip: string, from: string): string {
  const v = ip.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(v)) return `${v}/32`;
  if (ipaddr.IPv4.isValidCIDR(v)) {
    const bits = ipaddr.IPv4.parseCIDR(v)[1];
    if (bits < 24) throw new BakeInputError(`${from}: ${v} is wider than a /24: SSH must be admitted from your address only`);
    return `${ipaddr.IPv4.networkAddressFromCIDR(v).toString()}/${bits}`;
  }
  throw new BakeInputError(`${from}: ${JSON.stringify(v)} is not an IPv4 address`);
}

/** A wait that Ctrl-C interrupts. */
function waitOpts(run: BakeRun, what: string, intervalMs: number, timeoutMs: number): PollOptions {
  return { what, intervalMs, timeoutMs, signal: run.opts.signal, sleep: run.deps.sleep, now: run.deps.now };
}

export async function checkAccount(run: BakeRun): Promise<string> {
  const id = await run.deps.sts.send(new GetCallerIdentityCommand({}));
  if (id.Account !== run.config.accountId) {
    throw new BakeInputError(`these credentials are for account ${id.Account}, the config is for ${run.config.accountId}: refusing to bake in the wrong account`);
  }
  return id.Account;
}

export async function resolveBaseImage(run: BakeRun): Promise<BaseImage> {
  const { config, deps } = run;
  let imageId = run.opts.baseAmi;
  if (!imageId) {
    const p = await deps.ssm.send(new GetParameterCommand({ Name: config.amiBuild.baseAmiSsmParameter }));
    imageId = p.Parameter?.Value;
    if (!imageId) throw new Error(`SSM parameter ${config.amiBuild.baseAmiSsmParameter} has no value`);
  }
  if (!/^ami-[0-9a-f]{8,17}$/.test(imageId)) throw new BakeInputError(`base image ${JSON.stringify(imageId)} is not an AMI id`);
  const d = await deps.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const image = d.Images?.[0];
  if (!image || image.State !== 'available') throw new Error(`base image ${imageId} is ${image?.State ?? 'not found'}`);
  const root = image.RootDeviceName ?? '/dev/sda1';
  const rootSize = image.BlockDeviceMappings?.find((b) => b.DeviceName === root)?.Ebs?.VolumeSize ?? 0;
  if (rootSize > config.gpu.rootVolumeGb) {
    throw new BakeInputError(`base image ${imageId} has a ${rootSize} GB root volume, more than gpu.rootVolumeGb (${config.gpu.rootVolumeGb}): the GPU instance could not launch from the result`);
  }
  deps.log(`  ${imageId}: ${image.Name ?? '(no name)'} (${image.Architecture ?? '?'}, root ${root})`);
  return { imageId, rootDevice: root, name: image.Name ?? imageId };
}

/** The CIDR admitted to SSH: --my-ip, or the caller's address as checkip sees it. */
export async function findSshCidr(run: BakeRun): Promise<string> {
  if (run.opts.myIp) return sshCidr(run.opts.myIp, '--my-ip');
  const ip = await raceInterrupt(run.deps.myIp(run.opts.signal), run.opts.signal);
  try {
    return sshCidr(ip, 'checkip');
  } catch (e) {
    throw new BakeInputError(`${(e as Error).message}: pass --my-ip <your public IPv4>`);
  }
}

/** --subnet-id, or the network stack's public subnet (by tags) in the first zone that offers the builder type. */
export async function findBuilderSubnet(run: BakeRun): Promise<BuilderSubnet> {
  const { config, deps, names, opts } = run;
  const out = await deps.ec2.send(new DescribeSubnetsCommand(opts.subnetId
    ? { SubnetIds: [opts.subnetId] }
    : { Filters: [
      { Name: 'tag:Name', Values: [`${names.base}-public-*`] },
      { Name: 'tag:Project', Values: [config.tags.Project!] },
      { Name: 'state', Values: ['available'] },
    ] }));
  const subnets = out.Subnets ?? [];
  if (!subnets.length) {
    throw new BakeInputError(opts.subnetId
      ? `subnet ${opts.subnetId} not found`
      : `no subnet tagged Name=${names.base}-public-* and Project=${config.tags.Project}: deploy the network stack first, or pass --subnet-id`);
  }
  const offers = await deps.ec2.send(new DescribeInstanceTypeOfferingsCommand({
    LocationType: 'availability-zone',
    Filters: [{ Name: 'instance-type', Values: [config.amiBuild.builderInstanceType] }],
  }));
  const zones = new Set((offers.InstanceTypeOfferings ?? []).map((o) => o.Location));
  const order = (az?: string) => { const i = config.network.availabilityZones.indexOf(az ?? ''); return i < 0 ? 99 : i; };
  const fit = subnets.filter((s) => zones.has(s.AvailabilityZone)).sort((a, b) => order(a.AvailabilityZone) - order(b.AvailabilityZone))[0];
  if (!fit?.SubnetId || !fit.VpcId) {
    throw new BakeInputError(`${config.amiBuild.builderInstanceType} is not offered in ${subnets.map((s) => s.AvailabilityZone).join(', ')}: change amiBuild.builderInstanceType or pass --subnet-id`);
  }
  deps.log(`  ${fit.SubnetId} (${fit.AvailabilityZone}) in ${fit.VpcId}`);
  return { subnetId: fit.SubnetId, vpcId: fit.VpcId, az: fit.AvailabilityZone };
}

export async function createKeyPair(run: BakeRun): Promise<{ keyPairId: string; file: KeyFile }> {
  const { deps, resourceName } = run;
  const k = await deps.ec2.send(new CreateKeyPairCommand({
    KeyName: resourceName, KeyType: 'ed25519', KeyFormat: 'pem',
    TagSpecifications: [{ ResourceType: 'key-pair', Tags: run.builderTags }],
  }));
  const keyPairId = k.KeyPairId!;
  run.cleanup.push(`key pair ${keyPairId} (${resourceName})`, () => deleteKeyPair(deps.ec2, keyPairId));
  if (!k.KeyMaterial) throw new Error('CreateKeyPair returned no key material');
  const file = deps.writeKey(k.KeyMaterial);
  run.cleanup.push(`private key file ${file.path}`, async () => file.remove());
  return { keyPairId, file };
}

/** A group admitting SSH from `cidr` only, and letting out HTTP and HTTPS only. */
export async function createSecurityGroup(run: BakeRun, vpcId: string, cidr: string): Promise<string> {
  const { ec2 } = run.deps;
  const g = await ec2.send(new CreateSecurityGroupCommand({
    GroupName: run.resourceName,
    Description: `ziggie bake-ami builder ${run.opts.runId}: SSH from the operator only (temporary)`,
    VpcId: vpcId,
    TagSpecifications: [{ ResourceType: 'security-group', Tags: run.builderTags }],
  }));
  const id = g.GroupId!;
  run.cleanup.push(`security group ${id} (${run.resourceName})`, () => deleteSecurityGroup(run.remove, id));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({
    GroupId: id,
    IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr, Description: 'bake-ami operator (temporary)' }] }],
  }));
  // Out: HTTP (apt mirrors; packages are signature-checked) and HTTPS only, like the network stack's builder group.
  await ec2.send(new AuthorizeSecurityGroupEgressCommand({
    GroupId: id,
    IpPermissions: [80, 443].map((p) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p, IpRanges: [{ CidrIp: '0.0.0.0/0' }] })),
  }));
  await ec2.send(new RevokeSecurityGroupEgressCommand({
    GroupId: id,
    IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
  }));
  return id;
}

export async function launchBuilder(run: BakeRun, base: BaseImage, subnet: BuilderSubnet, groupId: string): Promise<string> {
  const { config, deps, spot, resourceName } = run;
  const runId = run.opts.runId;
  let instanceId: string | undefined;
  // Registered before the call: if RunInstances fails ambiguously (a timeout after AWS accepted it), the
  // run tag still finds the instance.
  run.cleanup.push(`builder instance (${resourceName})`, async () => {
    let ids = instanceId ? [instanceId] : [];
    if (!ids.length) {
      const r = await deps.ec2.send(new DescribeInstancesCommand({
        Filters: [{ Name: `tag:${RUN_TAG}`, Values: [runId] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
      }));
      ids = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId!).filter(Boolean);
    }
    if (ids.length) await terminateInstances(run.remove, ids);
  });
  const r = await deps.ec2.send(new RunInstancesCommand({
    ImageId: base.imageId,
    InstanceType: config.amiBuild.builderInstanceType as never,
    MinCount: 1,
    MaxCount: 1,
    KeyName: resourceName,
    ClientToken: runId,
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.subnetId, Groups: [groupId], AssociatePublicIpAddress: true, DeleteOnTermination: true }],
    BlockDeviceMappings: [{
      DeviceName: base.rootDevice,
      Ebs: { VolumeSize: config.gpu.rootVolumeGb, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
    }],
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    // A one-time Spot instance cannot be stopped: it is imaged with a reboot instead (see createImage).
    InstanceInitiatedShutdownBehavior: spot ? 'terminate' : 'stop',
    ...(spot ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } } : {}),
    TagSpecifications: [{ ResourceType: 'instance', Tags: run.builderTags }, { ResourceType: 'volume', Tags: run.builderTags }],
  }));
  instanceId = r.Instances?.[0]?.InstanceId;
  if (!instanceId) throw new Error('RunInstances returned no instance');
  deps.log(`  ${instanceId}`);
  return instanceId;
}

export function waitUntilRunning(run: BakeRun, instanceId: string): Promise<Instance> {
  return poll(async () => {
    const i = (await describeInstances(run.deps.ec2, [instanceId]))[0];
    const state = i?.State?.Name;
    if (state === 'running') return i;
    if (state && state !== 'pending') throw new Error(`builder ${instanceId} is ${state}${i?.StateReason?.Message ? `: ${i.StateReason.Message}` : ''}`);
    return undefined;
  }, waitOpts(run, `builder ${instanceId} running`, POLL_MS.instance, run.timeouts.running));
}

/** The builder's ED25519 host key fingerprint from its console output; undefined only with --trust-new-host-key. */
export async function readHostKey(run: BakeRun, instanceId: string): Promise<string | undefined> {
  let latest = true;
  try {
    return await poll(async () => {
      let out;
      try {
        out = await run.deps.ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, ...(latest ? { Latest: true } : {}) }));
      } catch (e) {
        // Latest is for Nitro instances only; older types (p3) serve the buffered output
        if (!latest || awsErrorCode(e) !== 'UnsupportedOperation') throw e;
        latest = false;
        return undefined;
      }
      return ed25519Fingerprint(out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '');
    }, waitOpts(run, 'the SSH host key fingerprints in the console output', POLL_MS.console, run.timeouts.consoleFingerprint));
  } catch (e) {
    if (!(e instanceof WaitTimeoutError) || !run.opts.trustNewHostKey) {
      if (e instanceof WaitTimeoutError) throw new Error(`${e.message}; pass --trust-new-host-key to trust the key the builder presents on first contact`);
      throw e;
    }
    run.deps.log('  no fingerprint in the console: --trust-new-host-key, trusting the first key the builder presents');
    return undefined;
  }
}

/** On-demand builders are imaged stopped. */
export async function stopBuilder(run: BakeRun, instanceId: string): Promise<void> {
  await run.deps.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  await poll(async () => {
    const state = (await describeInstances(run.deps.ec2, [instanceId]))[0]?.State?.Name;
    if (state === 'stopped') return true;
    if (state === 'terminated' || state === 'shutting-down') throw new Error(`builder ${instanceId} is ${state}`);
    return undefined;
  }, waitOpts(run, `builder ${instanceId} stopped`, POLL_MS.instance, run.timeouts.stopped));
}

export interface CreatedImage { imageId: string; name: string; entry: CleanupEntry }

/** CreateImage, tagged unpublished (so --sweep may remove it) until publishImage names it in SSM. */
export async function createImage(run: BakeRun, instanceId: string, base: BaseImage): Promise<CreatedImage> {
  const { config, deps } = run;
  const builtAt = new Date(deps.now());
  const name = imageName(config.comfyui.ref, builtAt);
  const imageTags = [
    ...toTags(config.tags), { Key: 'Name', Value: name }, { Key: BAKE_TAG, Value: 'image-unpublished' }, { Key: RUN_TAG, Value: run.opts.runId },
    { Key: 'ziggie:comfyui-ref', Value: config.comfyui.ref }, { Key: 'ziggie:built-at', Value: builtAt.toISOString() },
    { Key: 'ziggie:playbook-sha256', Value: run.opts.playbookSha256 }, { Key: 'ziggie:base-ami', Value: base.imageId },
  ];
  const r = await deps.ec2.send(new CreateImageCommand({
    InstanceId: instanceId,
    Name: name,
    Description: `ComfyUI ${config.comfyui.ref} on ${base.name}`.slice(0, 255),
    // Spot: EC2 shuts the builder down for a consistent snapshot, then reboots it. On-demand: already stopped.
    NoReboot: false,
    TagSpecifications: [{ ResourceType: 'image', Tags: imageTags }, { ResourceType: 'snapshot', Tags: imageTags }],
  }));
  const imageId = r.ImageId!;
  const entry = run.cleanup.push(`image ${imageId} and its snapshots (unpublished)`, () => deleteImage(deps.ec2, imageId));
  deps.log(`  ${imageId} (${name})`);
  return { imageId, name, entry };
}

export function waitForImage(run: BakeRun, imageId: string): Promise<Image> {
  return poll(async () => {
    const i = (await run.deps.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
    if (i?.State === 'available') return i;
    if (i?.State && i.State !== 'pending') throw new Error(`image ${imageId} is ${i.State}${i.StateReason?.Message ? `: ${i.StateReason.Message}` : ''}`);
    return undefined;
  }, waitOpts(run, `image ${imageId} available`, POLL_MS.image, run.timeouts.image));
}

/** Write the SSM parameter the GPU stack reads; from then on the image survives whatever happens next. */
export async function publishImage(run: BakeRun, created: CreatedImage, image: Image): Promise<void> {
  const { config, deps } = run;
  const { imageId } = created;
  await deps.ssm.send(new PutParameterCommand({
    Name: config.gpu.amiSsmParameter,
    Value: imageId,
    Type: 'String',
    DataType: 'aws:ec2:image',
    Overwrite: true,
    Description: `ComfyUI AMI (${config.comfyui.ref}), written by npm run bake-ami`,
  }));
  created.entry.disarm();
  try {
    await deps.ec2.send(new CreateTagsCommand({ Resources: [imageId, ...snapshotIds(image)], Tags: [{ Key: BAKE_TAG, Value: 'image' }] }));
  } catch (e) {
    deps.log(`  warning: could not retag ${imageId} as published (${(e as Error).message}); --sweep never removes the image the parameter names`);
  }
}
