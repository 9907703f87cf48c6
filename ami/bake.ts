/**
 * Bake the ComfyUI AMI: a temporary builder instance (Spot or on-demand) in the network stack's public subnet,
 * reached over SSH from the caller's IP only, provisioned by playbooks/comfyui-ami.ts, imaged, tagged, and
 * published to the SSM parameter the GPU stack reads. Every resource it creates is pushed on a cleanup stack the
 * moment it exists and removed on success, failure and Ctrl-C (unless --keep-on-failure). sweep() removes what a
 * crashed run left behind, found by the `ziggie:bake-ami` tag.
 *
 * All AWS access goes through the three clients passed in (tests use aws-sdk-client-mock); SSH, the playbook run,
 * the caller's IP, the key file, sleeping and the clock are injected too, so every step can fail or be
 * interrupted in a unit test.
 */
import {
  AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateImageCommand, CreateKeyPairCommand,
  CreateSecurityGroupCommand, CreateTagsCommand, DeleteKeyPairCommand, DeleteSecurityGroupCommand, DeleteSnapshotCommand,
  DeregisterImageCommand, DescribeImagesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstancesCommand,
  DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, DescribeSnapshotsCommand, DescribeSubnetsCommand,
  GetConsoleOutputCommand, RevokeSecurityGroupEgressCommand, RunInstancesCommand, StopInstancesCommand,
  TerminateInstancesCommand, type EC2Client, type Image, type Instance, type Tag,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import ipaddr from 'ipaddr.js';
import type { ZiggieConfig } from '../config/schema';
import { awsErrorCode } from '../shared/aws-errors';
import { ziggieNames } from '../shared/names';
import { CleanupStack, type CleanupFailure } from './cleanup';
import { ed25519Fingerprint } from './hostkey';
import { Progress, type PhaseTiming } from './progress';
import { InterruptedError, WaitTimeoutError, poll, raceInterrupt, type Sleep } from './wait';

/** Every resource a bake creates carries this tag: "builder" (instance, volume, key pair, security group),
 *  "image-unpublished" (image, snapshots until the SSM parameter names the image), "image" (published). */
export const BAKE_TAG = 'ziggie:bake-ami';
/** The run that created it (also the RunInstances client token). */
export const RUN_TAG = 'ziggie:bake-run';

/** Bad flags or config for a bake: exit 2, nothing was created. */
export class BakeInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'BakeInputError';
  }
}

export interface BuilderTarget {
  instanceId: string;
  /** public IPv4 */
  host: string;
  /** default 22 */
  port?: number;
  user: string;
  /** the temporary private key: a 0600 file, deleted in cleanup */
  privateKeyFile: string;
  /** a known_hosts file beside the key (used only with --trust-new-host-key) */
  knownHostsFile: string;
  /** pinned from the console output; undefined only with --trust-new-host-key */
  hostKeyFingerprint?: string;
}

export interface KeyFile {
  path: string;
  knownHostsPath: string;
  remove(): void;
}

export interface BakeDeps {
  ec2: Pick<EC2Client, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
  sts: Pick<STSClient, 'send'>;
  /** the caller's public IPv4 (checkip), when --my-ip is not given */
  myIp(signal: AbortSignal): Promise<string>;
  /** writes the private key to a fresh 0600 temp file */
  writeKey(material: string): KeyFile;
  /** until SSH answers with the pinned host key (and cloud-init has finished) */
  waitForSsh(target: BuilderTarget, signal: AbortSignal): Promise<void>;
  /** runs the ComfyUI playbook, then the seal playbook; throws when a host failed */
  provision(target: BuilderTarget, signal: AbortSignal): Promise<void>;
  sleep: Sleep;
  now(): number;
  log(line: string): void;
}

export interface BakeTimeouts {
  running: number;
  consoleFingerprint: number;
  ssh: number;
  stopped: number;
  image: number;
  terminated: number;
  securityGroupRelease: number;
}

export const DEFAULT_TIMEOUTS: BakeTimeouts = {
  running: 10 * 60_000,
  consoleFingerprint: 10 * 60_000,
  ssh: 10 * 60_000,
  stopped: 15 * 60_000,
  image: 90 * 60_000,
  terminated: 15 * 60_000,
  securityGroupRelease: 5 * 60_000,
};

export const POLL_MS = { instance: 5_000, console: 10_000, image: 15_000, securityGroup: 10_000 };

export interface BakeOptions {
  config: ZiggieConfig;
  /** unique per run: names, the client token and the RUN_TAG */
  runId: string;
  signal: AbortSignal;
  playbookSha256: string;
  /** instead of the SSM public parameter amiBuild.baseAmiSsmParameter */
  baseAmi?: string;
  /** instead of the network stack's public subnet found by its tags */
  subnetId?: string;
  /** IPv4 (or IPv4 CIDR) admitted to SSH, instead of asking checkip */
  myIp?: string;
  /** overrides amiBuild.useSpot */
  spot?: boolean;
  keepOnFailure?: boolean;
  /** no fingerprint in the console: trust the first host key (recorded in a temp known_hosts) */
  trustNewHostKey?: boolean;
  timeouts?: Partial<BakeTimeouts>;
}

export interface BakeResult {
  imageId: string;
  imageName: string;
  parameter: string;
  baseAmi: string;
  builder: { instanceId: string; spot: boolean; subnetId: string };
  phases: PhaseTiming[];
  /** resources cleanup could not remove (remove them with --sweep) */
  leaked: CleanupFailure[];
}

/** Raised after cleanup: the original error plus what cleanup left behind. */
export class BakeError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly leaked: CleanupFailure[],
    readonly kept: string[],
    readonly phases: PhaseTiming[],
  ) {
    super(message);
    this.name = 'BakeError';
  }
  get interrupted(): boolean {
    return this.cause instanceof InterruptedError;
  }
}

export const toTags = (rec: Record<string, string>): Tag[] => Object.entries(rec).map(([Key, Value]) => ({ Key, Value }));

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

export async function bakeAmi(deps: BakeDeps, opts: BakeOptions): Promise<BakeResult> {
  const { ec2, ssm, sts } = deps;
  const { config, runId, signal } = opts;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) };
  const spot = opts.spot ?? config.amiBuild.useSpot;
  const names = ziggieNames(config);
  const progress = new Progress(deps.log, deps.now);
  const cleanup = new CleanupStack();
  const resourceName = `ziggie-bake-ami-${runId}`;
  const builderTags = [
    ...toTags(config.tags), { Key: 'Name', Value: resourceName }, { Key: BAKE_TAG, Value: 'builder' }, { Key: RUN_TAG, Value: runId },
  ];
  const pollOpts = (what: string, intervalMs: number, timeoutMs: number, interruptible = true) =>
    ({ what, intervalMs, timeoutMs, signal: interruptible ? signal : undefined, sleep: deps.sleep, now: deps.now });

  const describeInstances = async (ids: string[]): Promise<Instance[]> => {
    try {
      const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
    } catch (e) {
      if (awsErrorCode(e) === 'InvalidInstanceID.NotFound') return []; // not visible yet (eventual consistency)
      throw e;
    }
  };
  const terminate = async (ids: string[]): Promise<void> => {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    await poll(async () => {
      const all = await describeInstances(ids);
      return all.length && all.every((i) => i.State?.Name === 'terminated') ? true : undefined;
    }, pollOpts(`builder ${ids.join(', ')} terminated`, POLL_MS.instance, timeouts.terminated, false));
  };

  try {
    // --- who and where ---------------------------------------------------------------------------------------
    const account = await progress.phase('check the AWS account', signal, async () => {
      const id = await sts.send(new GetCallerIdentityCommand({}));
      if (id.Account !== config.accountId) {
        throw new BakeInputError(`these credentials are for account ${id.Account}, the config is for ${config.accountId}: refusing to bake in the wrong account`);
      }
      return id.Account;
    });
    deps.log(`  account ${account}, region ${config.region}, builder ${config.amiBuild.builderInstanceType} (${spot ? 'Spot' : 'on-demand'})`);

    const base = await progress.phase('resolve the base image', signal, async () => {
      let imageId = opts.baseAmi;
      if (!imageId) {
        const p = await ssm.send(new GetParameterCommand({ Name: config.amiBuild.baseAmiSsmParameter }));
        imageId = p.Parameter?.Value;
        if (!imageId) throw new Error(`SSM parameter ${config.amiBuild.baseAmiSsmParameter} has no value`);
      }
      if (!/^ami-[0-9a-f]{8,17}$/.test(imageId)) throw new BakeInputError(`base image ${JSON.stringify(imageId)} is not an AMI id`);
      const d = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
      const image = d.Images?.[0];
      if (!image || image.State !== 'available') throw new Error(`base image ${imageId} is ${image?.State ?? 'not found'}`);
      const root = image.RootDeviceName ?? '/dev/sda1';
      const rootSize = image.BlockDeviceMappings?.find((b) => b.DeviceName === root)?.Ebs?.VolumeSize ?? 0;
      if (rootSize > config.gpu.rootVolumeGb) {
        throw new BakeInputError(`base image ${imageId} has a ${rootSize} GB root volume, more than gpu.rootVolumeGb (${config.gpu.rootVolumeGb}): the GPU instance could not launch from the result`);
      }
      deps.log(`  ${imageId}: ${image.Name ?? '(no name)'} (${image.Architecture ?? '?'}, root ${root})`);
      return { imageId, rootDevice: root, name: image.Name ?? imageId };
    });

    const cidr = await progress.phase('find your IP', signal, async () => {
      if (opts.myIp) return sshCidr(opts.myIp, '--my-ip');
      const ip = await raceInterrupt(deps.myIp(signal), signal);
      try {
        return sshCidr(ip, 'checkip');
      } catch (e) {
        throw new BakeInputError(`${(e as Error).message}: pass --my-ip <your public IPv4>`);
      }
    });
    deps.log(`  SSH will be admitted from ${cidr} only`);

    const subnet = await progress.phase('find the builder subnet', signal, async () => {
      const out = await ec2.send(new DescribeSubnetsCommand(opts.subnetId
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
      const offers = await ec2.send(new DescribeInstanceTypeOfferingsCommand({
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
    });

    // --- temporary key pair and security group --------------------------------------------------------------
    const key = await progress.phase('create a temporary key pair', signal, async () => {
      const k = await ec2.send(new CreateKeyPairCommand({
        KeyName: resourceName, KeyType: 'ed25519', KeyFormat: 'pem',
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: builderTags }],
      }));
      const keyPairId = k.KeyPairId!;
      cleanup.push(`key pair ${keyPairId} (${resourceName})`, async () => {
        await ec2.send(new DeleteKeyPairCommand({ KeyPairId: keyPairId }));
      });
      if (!k.KeyMaterial) throw new Error('CreateKeyPair returned no key material');
      const file = deps.writeKey(k.KeyMaterial);
      cleanup.push(`private key file ${file.path}`, async () => file.remove());
      return { keyPairId, file };
    });

    const groupId = await progress.phase('create a security group (SSH from your IP)', signal, async () => {
      const g = await ec2.send(new CreateSecurityGroupCommand({
        GroupName: resourceName,
        Description: `ziggie bake-ami builder ${runId}: SSH from the operator only (temporary)`,
        VpcId: subnet.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: builderTags }],
      }));
      const id = g.GroupId!;
      cleanup.push(`security group ${id} (${resourceName})`, async () => {
        await poll(async () => {
          try {
            await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
            return true;
          } catch (e) {
            // the terminated builder's network interface takes a little while to let go of the group
            if (awsErrorCode(e) === 'DependencyViolation') return undefined;
            if (awsErrorCode(e) === 'InvalidGroup.NotFound') return true;
            throw e;
          }
        }, pollOpts(`security group ${id} released`, POLL_MS.securityGroup, timeouts.securityGroupRelease, false));
      });
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
    });

    // --- the builder --------------------------------------------------------------------------------------------
    const launched = await progress.phase(`launch the builder (${spot ? 'Spot' : 'on-demand'})`, signal, async () => {
      let instanceId: string | undefined;
      // Registered before the call: if RunInstances fails ambiguously (a timeout after AWS accepted it), the
      // run tag still finds the instance.
      cleanup.push(`builder instance (${resourceName})`, async () => {
        let ids = instanceId ? [instanceId] : [];
        if (!ids.length) {
          const r = await ec2.send(new DescribeInstancesCommand({
            Filters: [{ Name: `tag:${RUN_TAG}`, Values: [runId] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
          }));
          ids = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId!).filter(Boolean);
        }
        if (ids.length) await terminate(ids);
      });
      const r = await ec2.send(new RunInstancesCommand({
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
        // A one-time Spot instance cannot be stopped: it is imaged with a reboot instead (see below).
        InstanceInitiatedShutdownBehavior: spot ? 'terminate' : 'stop',
        ...(spot ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } } : {}),
        TagSpecifications: [{ ResourceType: 'instance', Tags: builderTags }, { ResourceType: 'volume', Tags: builderTags }],
      }));
      instanceId = r.Instances?.[0]?.InstanceId;
      if (!instanceId) throw new Error('RunInstances returned no instance');
      deps.log(`  ${instanceId}`);
      return instanceId;
    });

    const instance = await progress.phase('wait until the builder runs', signal, () =>
      poll(async () => {
        const i = (await describeInstances([launched]))[0];
        const state = i?.State?.Name;
        if (state === 'running') return i;
        if (state && state !== 'pending') throw new Error(`builder ${launched} is ${state}${i?.StateReason?.Message ? `: ${i.StateReason.Message}` : ''}`);
        return undefined;
      }, pollOpts(`builder ${launched} running`, POLL_MS.instance, timeouts.running)));
    const host = instance.PublicIpAddress;
    if (!host) throw new Error(`builder ${launched} has no public IP address (subnet ${subnet.subnetId})`);

    const fingerprint = await progress.phase('read the SSH host key from the console', signal, async () => {
      let latest = true;
      try {
        return await poll(async () => {
          let out;
          try {
            out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: launched, ...(latest ? { Latest: true } : {}) }));
          } catch (e) {
            // Latest is for Nitro instances only; older types (p3) serve the buffered output
            if (!latest || awsErrorCode(e) !== 'UnsupportedOperation') throw e;
            latest = false;
            return undefined;
          }
          return ed25519Fingerprint(out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '');
        }, pollOpts('the SSH host key fingerprints in the console output', POLL_MS.console, timeouts.consoleFingerprint));
      } catch (e) {
        if (!(e instanceof WaitTimeoutError) || !opts.trustNewHostKey) {
          if (e instanceof WaitTimeoutError) throw new Error(`${e.message}; pass --trust-new-host-key to trust the key the builder presents on first contact`);
          throw e;
        }
        deps.log('  no fingerprint in the console: --trust-new-host-key, trusting the first key the builder presents');
        return undefined;
      }
    });
    if (fingerprint) deps.log(`  ED25519 ${fingerprint}`);
    const target: BuilderTarget = {
      instanceId: launched, host, user: config.amiBuild.sshUser,
      privateKeyFile: key.file.path, knownHostsFile: key.file.knownHostsPath, hostKeyFingerprint: fingerprint,
    };

    await progress.phase(`wait for SSH on ${host}`, signal, () => raceInterrupt(deps.waitForSsh(target, signal), signal));
    await progress.phase('run the ComfyUI playbook', signal, () => raceInterrupt(deps.provision(target, signal), signal));

    if (!spot) {
      await progress.phase('stop the builder', signal, async () => {
        await ec2.send(new StopInstancesCommand({ InstanceIds: [launched] }));
        await poll(async () => {
          const state = (await describeInstances([launched]))[0]?.State?.Name;
          if (state === 'stopped') return true;
          if (state === 'terminated' || state === 'shutting-down') throw new Error(`builder ${launched} is ${state}`);
          return undefined;
        }, pollOpts(`builder ${launched} stopped`, POLL_MS.instance, timeouts.stopped));
      });
    }

    // --- the image ----------------------------------------------------------------------------------------------
    const builtAt = new Date(deps.now());
    const name = imageName(config.comfyui.ref, builtAt);
    const imageTags = [
      ...toTags(config.tags), { Key: 'Name', Value: name }, { Key: BAKE_TAG, Value: 'image-unpublished' }, { Key: RUN_TAG, Value: runId },
      { Key: 'ziggie:comfyui-ref', Value: config.comfyui.ref }, { Key: 'ziggie:built-at', Value: builtAt.toISOString() },
      { Key: 'ziggie:playbook-sha256', Value: opts.playbookSha256 }, { Key: 'ziggie:base-ami', Value: base.imageId },
    ];
    const { imageId, entry: imageEntry } = await progress.phase('create the image', signal, async () => {
      const r = await ec2.send(new CreateImageCommand({
        InstanceId: launched,
        Name: name,
        Description: `ComfyUI ${config.comfyui.ref} on ${base.name}`.slice(0, 255),
        // Spot: EC2 shuts the builder down for a consistent snapshot, then reboots it. On-demand: already stopped.
        NoReboot: false,
        TagSpecifications: [{ ResourceType: 'image', Tags: imageTags }, { ResourceType: 'snapshot', Tags: imageTags }],
      }));
      const id = r.ImageId!;
      const entry = cleanup.push(`image ${id} and its snapshots (unpublished)`, () => deleteImage(ec2, id));
      deps.log(`  ${id} (${name})`);
      return { imageId: id, entry };
    });

    const image = await progress.phase('wait until the image is available', signal, () =>
      poll(async () => {
        const i = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
        if (i?.State === 'available') return i;
        if (i?.State && i.State !== 'pending') throw new Error(`image ${imageId} is ${i.State}${i.StateReason?.Message ? `: ${i.StateReason.Message}` : ''}`);
        return undefined;
      }, pollOpts(`image ${imageId} available`, POLL_MS.image, timeouts.image)));

    await progress.phase(`publish the image id to ${config.gpu.amiSsmParameter}`, signal, async () => {
      await ssm.send(new PutParameterCommand({
        Name: config.gpu.amiSsmParameter,
        Value: imageId,
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
        Description: `ComfyUI AMI (${config.comfyui.ref}), written by npm run bake-ami`,
      }));
      // From here on the GPU stack may use the image: it must survive whatever happens next.
      imageEntry.disarm();
      try {
        await ec2.send(new CreateTagsCommand({ Resources: [imageId, ...snapshotIds(image)], Tags: [{ Key: BAKE_TAG, Value: 'image' }] }));
      } catch (e) {
        deps.log(`  warning: could not retag ${imageId} as published (${(e as Error).message}); --sweep never removes the image the parameter names`);
      }
    });

    return {
      imageId, imageName: name, parameter: config.gpu.amiSsmParameter, baseAmi: base.imageId,
      builder: { instanceId: launched, spot, subnetId: subnet.subnetId },
      phases: progress.phases,
      leaked: await finish(),
    };
  } catch (e) {
    const kept = opts.keepOnFailure ? cleanup.pending() : [];
    const leaked = opts.keepOnFailure ? [] : await finish();
    if (opts.keepOnFailure && kept.length) {
      deps.log(`--keep-on-failure: left for debugging (remove with npm run bake-ami -- --sweep):`);
      for (const k of kept) deps.log(`  ${k}`);
    }
    const what = e instanceof InterruptedError ? 'interrupted' : (e as Error)?.message ?? String(e);
    throw new BakeError(what, e, leaked, kept, progress.phases);
  }

  async function finish(): Promise<CleanupFailure[]> {
    if (!cleanup.pending().length) return [];
    const leaked = await progress.phase('clean up', undefined, () => cleanup.run(deps.log));
    if (leaked.length) {
      deps.log('cleanup could not remove (npm run bake-ami -- --sweep removes them later):');
      for (const l of leaked) deps.log(`  ${l.label}: ${l.error}`);
    }
    return leaked;
  }
}

function snapshotIds(image: Image | undefined): string[] {
  return (image?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

/** Deregister an image and delete its snapshots (a pending image's snapshots may not be known yet: --sweep). */
export async function deleteImage(ec2: Pick<EC2Client, 'send'>, imageId: string): Promise<void> {
  const d = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const snaps = snapshotIds(d.Images?.[0]);
  await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
  for (const s of snaps) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s }));
}

// ------------------------------------------------------------------------------------------------------------
// --sweep
// ------------------------------------------------------------------------------------------------------------

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
  const timeouts = { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) };
  const byTag = (value: string) => [{ Name: `tag:${BAKE_TAG}`, Values: [value] }];
  const found: string[] = [];
  const removed: string[] = [];
  const failed: CleanupFailure[] = [];
  const act = async (label: string, fn: () => Promise<void>): Promise<void> => {
    found.push(label);
    if (opts.dryRun) return deps.log(`  would remove ${label}`);
    try {
      await fn();
      removed.push(label);
      deps.log(`  removed ${label}`);
    } catch (e) {
      failed.push({ label, error: (e as Error).message });
      deps.log(`  could NOT remove ${label}: ${(e as Error).message}`);
    }
  };

  const inst = await ec2.send(new DescribeInstancesCommand({
    Filters: [...byTag('builder'), { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
  }));
  const ids = (inst.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).filter(Boolean);
  if (ids.length) {
    await act(`builder instance(s) ${ids.join(', ')}`, async () => {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
      await poll(async () => {
        const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
        const all = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
        return all.every((i) => i.State?.Name === 'terminated') ? true : undefined;
      }, { what: 'builders terminated', intervalMs: POLL_MS.instance, timeoutMs: timeouts.terminated, sleep: deps.sleep, now: deps.now });
    });
  }

  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: byTag('builder') }))).SecurityGroups ?? [];
  for (const g of groups) {
    await act(`security group ${g.GroupId} (${g.GroupName})`, () =>
      poll(async () => {
        try {
          await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }));
          return true;
        } catch (e) {
          if (awsErrorCode(e) === 'DependencyViolation') return undefined;
          throw e;
        }
      }, { what: `security group ${g.GroupId} released`, intervalMs: POLL_MS.securityGroup, timeoutMs: timeouts.securityGroupRelease, sleep: deps.sleep, now: deps.now }).then(() => undefined));
  }

  const keys = (await ec2.send(new DescribeKeyPairsCommand({ Filters: byTag('builder') }))).KeyPairs ?? [];
  for (const k of keys) {
    await act(`key pair ${k.KeyPairId} (${k.KeyName})`, async () => void (await ec2.send(new DeleteKeyPairCommand({ KeyPairId: k.KeyPairId }))));
  }

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
    snapshotIds(i).forEach((s) => imageSnaps.add(s));
    await act(`unpublished image ${i.ImageId} (${i.Name}) and its snapshots`, async () => {
      await ec2.send(new DeregisterImageCommand({ ImageId: i.ImageId }));
      for (const s of snapshotIds(i)) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s }));
    });
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
    await act(`orphaned snapshot ${s.SnapshotId}`, async () => void (await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId }))));
  }
  if (!found.length) deps.log('  nothing left behind by earlier bakes');
  return { found, removed, failed };
}
