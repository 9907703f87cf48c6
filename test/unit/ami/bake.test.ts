/**
 * The bake orchestration (ami/bake.ts) against aws-sdk-client-mock: the happy path's exact call sequence, a failure
 * injected at every step and an interrupt during every wait, each followed by the exact cleanup calls; --sweep;
 * --keep-on-failure. A small fake "EC2 world" answers the calls and records one sequence across EC2, SSM, STS and
 * the injected SSH/playbook/checkip/key-file dependencies.
 */
import {
  AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateImageCommand, CreateKeyPairCommand,
  CreateSecurityGroupCommand, CreateTagsCommand, DeleteKeyPairCommand, DeleteSecurityGroupCommand, DeleteSnapshotCommand,
  DeregisterImageCommand, DescribeImagesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstancesCommand,
  DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, DescribeSnapshotsCommand, DescribeSubnetsCommand, EC2Client,
  GetConsoleOutputCommand, RevokeSecurityGroupEgressCommand, RunInstancesCommand, StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import type { ZiggieConfig } from '../../../config/schema';
import {
  BAKE_TAG, BakeError, BakeInputError, RUN_TAG, bakeAmi, imageName, sshCidr, sweep, type BakeDeps, type BuilderTarget,
} from '../../../ami/bake';
import { InterruptedError } from '../../../ami/wait';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);

const config: ZiggieConfig = loadConfig(EXAMPLE_CONFIG);
const BASE = 'ami-0ba5e00000000001';
const IMAGE = 'ami-0b4ced0000000002';
const INSTANCE = 'i-0builder000000001';
const SG = 'sg-0bake000000000001';
const KEYPAIR = 'key-0bake00000000001';
const SNAP = 'snap-0baked00000001';
const IP = '198.51.100.23';
const PUBLIC_IP = '203.0.113.50';
const FP = 'SHA256:' + 'A'.repeat(42) + 'E';
const RUN = '20260101T000000Z-abc123';
const CONSOLE = [
  'ec2: #############################################################',
  'ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----',
  'ec2: 256 SHA256:' + 'B'.repeat(43) + ' root@ip-10-0-1-5 (ECDSA)',
  `ec2: 256 ${FP} root@ip-10-0-1-5 (ED25519)`,
  'ec2: -----END SSH HOST KEY FINGERPRINTS-----',
].join('\n');

interface WorldOptions {
  /** "Name#n": throw at the n-th call of that step (AWS command name without "Command", or a dep name) */
  failAt?: string;
  /** interrupt (abort) when this wait starts sleeping / when this dep runs */
  interruptAt?: 'running' | 'console' | 'ssh' | 'playbook' | 'stopped' | 'image' | 'checkip';
  account?: string;
}

interface World {
  seq: string[];
  inputs: Map<string, unknown[]>;
  deps: BakeDeps;
  controller: AbortController;
  targets: BuilderTarget[];
  keyRemoved: boolean;
}

function world(o: WorldOptions = {}): World {
  ec2.reset();
  ssm.reset();
  sts.reset();
  const seq: string[] = [];
  const inputs = new Map<string, unknown[]>();
  const counts = new Map<string, number>();
  const controller = new AbortController();
  const state = { instance: 'none', image: 'none', launched: false, sgDeletes: 0, console: 0 };
  const step = (name: string, input?: unknown): void => {
    seq.push(name);
    inputs.set(name, [...(inputs.get(name) ?? []), input]);
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    if (o.failAt === `${name}#${n}`) throw Object.assign(new Error(`injected failure at ${name}#${n}`), { name: 'InjectedFailure' });
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const on = <O>(mock: typeof ec2 | typeof ssm | typeof sts, cmd: new (...args: any[]) => unknown, fn: (input: any) => O): void => {
    const name = (cmd as { name: string }).name.replace(/Command$/, '');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (mock as unknown as { on(c: unknown): { callsFake(f: (i: any) => Promise<O>): void } }).on(cmd).callsFake(async (input: any) => {
      step(name, input);
      return fn(input);
    });
  };
  const instance = (s: string) => ({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: s }, PublicIpAddress: PUBLIC_IP }] }] });

  on(sts, GetCallerIdentityCommand, () => ({ Account: o.account ?? config.accountId }));
  on(ssm, GetParameterCommand, () => ({ Parameter: { Value: BASE } }));
  on(ssm, PutParameterCommand, () => ({ Version: 2 }));
  on(ec2, DescribeImagesCommand, (i: { ImageIds?: string[] }) => {
    if (i.ImageIds?.[0] === BASE) {
      return { Images: [{ ImageId: BASE, State: 'available', Name: 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)', Architecture: 'x86_64', RootDeviceName: '/dev/sda1', BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 75, SnapshotId: 'snap-base' } }] }] };
    }
    const s = state.image === 'pending-once' ? 'pending' : state.image;
    if (state.image === 'pending-once') state.image = 'available';
    return { Images: [{ ImageId: IMAGE, State: s, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { SnapshotId: SNAP } }] }] };
  });
  on(ec2, DescribeSubnetsCommand, () => ({
    Subnets: [
      { SubnetId: 'subnet-0b', VpcId: 'vpc-0ziggie', AvailabilityZone: 'eu-north-1b' },
      { SubnetId: 'subnet-0a', VpcId: 'vpc-0ziggie', AvailabilityZone: 'eu-north-1a' },
    ],
  }));
  on(ec2, DescribeInstanceTypeOfferingsCommand, () => ({ InstanceTypeOfferings: [{ Location: 'eu-north-1a' }, { Location: 'eu-north-1b' }] }));
  on(ec2, CreateKeyPairCommand, () => ({ KeyPairId: KEYPAIR, KeyName: `ziggie-bake-ami-${RUN}`, KeyMaterial: '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----' }));
  on(ec2, DeleteKeyPairCommand, () => ({}));
  on(ec2, CreateSecurityGroupCommand, () => ({ GroupId: SG }));
  on(ec2, AuthorizeSecurityGroupIngressCommand, () => ({ Return: true }));
  on(ec2, AuthorizeSecurityGroupEgressCommand, () => ({ Return: true }));
  on(ec2, RevokeSecurityGroupEgressCommand, () => ({ Return: true }));
  on(ec2, DeleteSecurityGroupCommand, () => {
    // in use while the builder lives; its interface lets go of the group a moment after it is terminated
    if (state.launched && (state.instance !== 'terminated' || state.sgDeletes++ === 0)) throw Object.assign(new Error('resource sg has a dependent object'), { name: 'DependencyViolation' });
    return {};
  });
  on(ec2, RunInstancesCommand, () => {
    state.instance = 'pending';
    state.launched = true;
    return { Instances: [{ InstanceId: INSTANCE }] };
  });
  on(ec2, DescribeInstancesCommand, (i: { Filters?: unknown[] }) => {
    if (i.Filters) return { Reservations: [] }; // by run tag: nothing (RunInstances failed before AWS created it)
    const s = state.instance;
    const next: Record<string, string> = { pending: 'running', stopping: 'stopped', 'shutting-down': 'terminated' };
    state.instance = next[s] ?? s;
    return instance(s);
  });
  on(ec2, GetConsoleOutputCommand, () => ({ Output: state.console++ === 0 ? '' : Buffer.from(`boot...\n${CONSOLE}\nlogin:`).toString('base64') }));
  on(ec2, StopInstancesCommand, () => {
    state.instance = 'stopping';
    return {};
  });
  on(ec2, TerminateInstancesCommand, () => {
    state.instance = 'shutting-down';
    return {};
  });
  on(ec2, CreateImageCommand, () => {
    state.image = 'pending-once';
    return { ImageId: IMAGE };
  });
  on(ec2, DeregisterImageCommand, () => ({}));
  on(ec2, DeleteSnapshotCommand, () => ({}));
  on(ec2, CreateTagsCommand, () => ({}));

  let clock = 1_767_225_600_000; // 2026-01-01T00:00:00Z
  const w: World = { seq, inputs, controller, targets: [], keyRemoved: false, deps: undefined as never };
  const hang = (): Promise<never> => new Promise(() => undefined); // raceInterrupt must give up on it
  w.deps = {
    ec2: new EC2Client({ region: config.region }),
    ssm: new SSMClient({ region: config.region }),
    sts: new STSClient({ region: config.region }),
    myIp: async () => {
      step('checkip');
      if (o.interruptAt === 'checkip') {
        controller.abort();
        return hang();
      }
      return IP;
    },
    writeKey: (material) => {
      step('writeKey');
      expect(material).toContain('PRIVATE KEY');
      return { path: '/tmp/fake/builder_ed25519', knownHostsPath: '/tmp/fake/known_hosts', remove: () => { step('removeKey'); w.keyRemoved = true; } };
    },
    waitForSsh: async (t) => {
      step('ssh');
      w.targets.push(t);
      if (o.interruptAt === 'ssh') {
        controller.abort();
        return hang();
      }
    },
    provision: async () => {
      step('playbook');
      if (o.interruptAt === 'playbook') {
        controller.abort();
        return hang();
      }
    },
    sleep: async (ms, signal, what) => {
      const wait = /running$/.test(what) ? 'running' : /console/.test(what) ? 'console' : /stopped$/.test(what) ? 'stopped' : /^image .* available$/.test(what) ? 'image' : what;
      if (o.interruptAt === wait) controller.abort();
      if (signal?.aborted) throw new InterruptedError();
      clock += ms;
    },
    now: () => clock,
    log: () => undefined,
  };
  return w;
}

const bake = (w: World, extra: Partial<Parameters<typeof bakeAmi>[1]> = {}) =>
  bakeAmi(w.deps, { config, runId: RUN, signal: w.controller.signal, playbookSha256: 'f'.repeat(64), ...extra });

// --- the happy path ---------------------------------------------------------------------------------------------

const SETUP = [
  'GetCallerIdentity', 'GetParameter', 'DescribeImages', 'checkip', 'DescribeSubnets', 'DescribeInstanceTypeOfferings',
  'CreateKeyPair', 'writeKey', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupEgress', 'RunInstances', 'DescribeInstances', 'DescribeInstances', 'GetConsoleOutput',
  'GetConsoleOutput', 'ssh', 'playbook',
];
const IMAGE_STEPS = ['CreateImage', 'DescribeImages', 'DescribeImages', 'PutParameter', 'CreateTags'];
const STOP = ['StopInstances', 'DescribeInstances', 'DescribeInstances'];
// cleanup, newest first: instance (terminate + wait), security group (retried once: DependencyViolation), key file, key pair
const C_INSTANCE = ['TerminateInstances', 'DescribeInstances', 'DescribeInstances'];
const C_INSTANCE_NONE = ['DescribeInstances'];
const C_SG_AFTER_INSTANCE = ['DeleteSecurityGroup', 'DeleteSecurityGroup'];
const C_SG = ['DeleteSecurityGroup'];
const C_KEYFILE = ['removeKey'];
const C_KEYPAIR = ['DeleteKeyPair'];
const C_IMAGE = ['DescribeImages', 'DeregisterImage', 'DeleteSnapshot'];
const C_ALL = [...C_INSTANCE, ...C_SG_AFTER_INSTANCE, ...C_KEYFILE, ...C_KEYPAIR];

describe('bake-ami orchestration', () => {
  test('happy path (Spot): the exact call sequence, then cleanup of the builder, group and key', async () => {
    const w = world();
    const r = await bake(w);
    expect(w.seq).toEqual([...SETUP, ...IMAGE_STEPS, ...C_ALL]);
    expect(r).toMatchObject({ imageId: IMAGE, parameter: '/ziggie/comfyui/ami-id', baseAmi: BASE, builder: { instanceId: INSTANCE, spot: true, subnetId: 'subnet-0a' }, leaked: [] });
    // the fake clock advanced 15 s in the two polls (instance running, console output)
    expect(r.imageName).toBe('ziggie-comfyui-v0.3.40-20260101-000015Z');
    expect(w.keyRemoved).toBe(true);

    // what each call asked for
    const input = <T>(name: string, i = 0) => w.inputs.get(name)![i] as T;
    expect(input('GetParameter')).toEqual({ Name: config.amiBuild.baseAmiSsmParameter });
    expect(input('CreateKeyPair')).toMatchObject({ KeyName: `ziggie-bake-ami-${RUN}`, KeyType: 'ed25519' });
    expect(input('AuthorizeSecurityGroupIngress')).toEqual({
      GroupId: SG, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `${IP}/32`, Description: 'bake-ami operator (temporary)' }] }],
    });
    expect(input('CreateSecurityGroup')).toMatchObject({ VpcId: 'vpc-0ziggie', GroupName: `ziggie-bake-ami-${RUN}` });
    const run = input<Record<string, any>>('RunInstances');
    expect(run).toMatchObject({
      ImageId: BASE, InstanceType: 'g4dn.xlarge', KeyName: `ziggie-bake-ami-${RUN}`, ClientToken: RUN, MinCount: 1, MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-0a', Groups: [SG], AssociatePublicIpAddress: true, DeleteOnTermination: true }],
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 100, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: 'required' },
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } },
    });
    for (const spec of run.TagSpecifications) {
      expect(spec.Tags).toEqual(expect.arrayContaining([
        { Key: BAKE_TAG, Value: 'builder' }, { Key: RUN_TAG, Value: RUN }, { Key: 'Project', Value: 'Ziggie' },
      ]));
    }
    const image = input<Record<string, any>>('CreateImage');
    expect(image).toMatchObject({ InstanceId: INSTANCE, NoReboot: false, Name: r.imageName });
    expect(image.TagSpecifications.map((t: { ResourceType: string }) => t.ResourceType)).toEqual(['image', 'snapshot']);
    expect(image.TagSpecifications[0].Tags).toEqual(expect.arrayContaining([
      { Key: 'ziggie:comfyui-ref', Value: 'v0.3.40' }, { Key: 'ziggie:playbook-sha256', Value: 'f'.repeat(64) },
      { Key: 'ziggie:built-at', Value: '2026-01-01T00:00:15.000Z' }, { Key: 'ziggie:base-ami', Value: BASE },
      { Key: 'Project', Value: 'Ziggie' }, { Key: BAKE_TAG, Value: 'image-unpublished' },
    ]));
    expect(input('PutParameter')).toMatchObject({ Name: '/ziggie/comfyui/ami-id', Value: IMAGE, Type: 'String', DataType: 'aws:ec2:image', Overwrite: true });
    expect(input('CreateTags')).toEqual({ Resources: [IMAGE, SNAP], Tags: [{ Key: BAKE_TAG, Value: 'image' }] });
    expect(input('TerminateInstances')).toEqual({ InstanceIds: [INSTANCE] });
    expect(input('DeleteKeyPair')).toEqual({ KeyPairId: KEYPAIR });

    // SSH: pinned to the ED25519 fingerprint the console printed, the temporary key, the configured user
    expect(w.targets[0]).toEqual({
      instanceId: INSTANCE, host: PUBLIC_IP, user: 'ubuntu', privateKeyFile: '/tmp/fake/builder_ed25519',
      knownHostsFile: '/tmp/fake/known_hosts', hostKeyFingerprint: FP,
    });
  });

  test('happy path (on-demand): stops the builder before imaging it', async () => {
    const w = world();
    await bake(w, { spot: false });
    expect(w.seq).toEqual([...SETUP, ...STOP, ...IMAGE_STEPS, ...C_ALL]);
    expect((w.inputs.get('RunInstances')![0] as Record<string, unknown>).InstanceMarketOptions).toBeUndefined();
  });

  test('--my-ip skips checkip; --subnet-id and --base-ami skip the lookups', async () => {
    const w = world();
    await bake(w, { myIp: '192.0.2.9', subnetId: 'subnet-0a', baseAmi: BASE });
    expect(w.seq).not.toContain('checkip');
    expect(w.seq).not.toContain('GetParameter');
    expect(w.inputs.get('DescribeSubnets')![0]).toEqual({ SubnetIds: ['subnet-0a'] });
    expect((w.inputs.get('AuthorizeSecurityGroupIngress')![0] as any).IpPermissions[0].IpRanges[0].CidrIp).toBe('192.0.2.9/32');
  });

  // --- a failure at every step ----------------------------------------------------------------------------------

  const spotSteps = [...SETUP, ...IMAGE_STEPS];
  const occurrences = (steps: string[]) => {
    const seen = new Map<string, number>();
    return steps.map((s) => {
      const n = (seen.get(s) ?? 0) + 1;
      seen.set(s, n);
      return `${s}#${n}`;
    });
  };
  // the exact cleanup after a failure at each step (Spot)
  const cleanupAfter: Record<string, string[]> = {
    'GetCallerIdentity#1': [], 'GetParameter#1': [], 'DescribeImages#1': [], 'checkip#1': [], 'DescribeSubnets#1': [],
    'DescribeInstanceTypeOfferings#1': [], 'CreateKeyPair#1': [],
    'writeKey#1': C_KEYPAIR,
    'CreateSecurityGroup#1': [...C_KEYFILE, ...C_KEYPAIR],
    'AuthorizeSecurityGroupIngress#1': [...C_SG, ...C_KEYFILE, ...C_KEYPAIR],
    'AuthorizeSecurityGroupEgress#1': [...C_SG, ...C_KEYFILE, ...C_KEYPAIR],
    'RevokeSecurityGroupEgress#1': [...C_SG, ...C_KEYFILE, ...C_KEYPAIR],
    'RunInstances#1': [...C_INSTANCE_NONE, ...C_SG, ...C_KEYFILE, ...C_KEYPAIR],
    'DescribeInstances#1': C_ALL, 'DescribeInstances#2': C_ALL, 'GetConsoleOutput#1': C_ALL, 'GetConsoleOutput#2': C_ALL,
    'ssh#1': C_ALL, 'playbook#1': C_ALL, 'CreateImage#1': C_ALL,
    'DescribeImages#2': [...C_IMAGE, ...C_ALL], 'DescribeImages#3': [...C_IMAGE, ...C_ALL], 'PutParameter#1': [...C_IMAGE, ...C_ALL],
  };

  test('the failure table covers every step before the image is published', () => {
    const steps = occurrences(spotSteps);
    expect(Object.keys(cleanupAfter)).toEqual(steps.slice(0, steps.indexOf('PutParameter#1') + 1));
  });

  test.each(Object.entries(cleanupAfter))('failure at %s: removes exactly what was created', async (failAt, cleanup) => {
    const w = world({ failAt });
    const err = await bake(w).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BakeError);
    expect((err as BakeError).message).toBe(`injected failure at ${failAt}`);
    expect((err as BakeError).leaked).toEqual([]);
    const failedAt = occurrences(w.seq).indexOf(failAt);
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(w.seq.slice(failedAt + 1)).toEqual(cleanup);
    expect(w.seq).not.toContain('CreateTags');
    expect(w.keyRemoved).toBe(cleanup.includes('removeKey'));
  });

  test('failure at StopInstances (on-demand): removes the builder, group and key', async () => {
    const w = world({ failAt: 'StopInstances#1' });
    await expect(bake(w, { spot: false })).rejects.toBeInstanceOf(BakeError);
    expect(w.seq.slice(w.seq.indexOf('StopInstances') + 1)).toEqual(C_ALL);
  });

  test('a failed retag after publishing keeps the published image (a warning, not a failure)', async () => {
    const w = world({ failAt: 'CreateTags#1' });
    const r = await bake(w);
    expect(r.imageId).toBe(IMAGE);
    expect(w.seq.slice(w.seq.indexOf('CreateTags') + 1)).toEqual(C_ALL);
    expect(w.seq).not.toContain('DeregisterImage');
  });

  test('a cleanup step that fails does not stop the others, and is reported as leaked', async () => {
    const w2 = world({ failAt: 'TerminateInstances#1' });
    const r = await bake(w2); // the image is published: the bake succeeded, the result lists the leak
    expect(r.leaked.map((l) => l.label)).toEqual([`builder instance (ziggie-bake-ami-${RUN})`, `security group ${SG} (ziggie-bake-ami-${RUN})`]);
    // the group is retried until its release timeout (the builder never let go), the key still goes
    expect(w2.seq.filter((s) => s === 'DeleteSecurityGroup').length).toBeGreaterThan(2);
    expect(w2.seq.slice(-2)).toEqual(['removeKey', 'DeleteKeyPair']);
  });

  // --- Ctrl-C during every wait -----------------------------------------------------------------------------------

  const interrupts: Array<[NonNullable<WorldOptions['interruptAt']>, boolean, string[]]> = [
    ['checkip', true, []],
    ['running', true, C_ALL],
    ['console', true, C_ALL],
    ['ssh', true, C_ALL],
    ['playbook', true, C_ALL],
    ['stopped', false, C_ALL],
    ['image', true, [...C_IMAGE, ...C_ALL]],
  ];
  test.each(interrupts)('Ctrl-C while waiting for %s (spot=%s): stops there and removes exactly what was created', async (at, spot, cleanup) => {
    const w = world({ interruptAt: at });
    const err = (await bake(w, { spot }).catch((e: unknown) => e)) as BakeError;
    expect(err).toBeInstanceOf(BakeError);
    expect(err.interrupted).toBe(true);
    expect(err.leaked).toEqual([]);
    // nothing after the interrupted wait ran, except cleanup
    const lastBeforeCleanup: Record<string, string> = { checkip: 'checkip', running: 'DescribeInstances', console: 'GetConsoleOutput', ssh: 'ssh', playbook: 'playbook', stopped: 'DescribeInstances', image: 'DescribeImages' };
    const setupEnd = w.seq.length - cleanup.length;
    expect(w.seq[setupEnd - 1]).toBe(lastBeforeCleanup[at]);
    expect(w.seq.slice(setupEnd)).toEqual(cleanup);
    expect(w.seq).not.toContain('PutParameter');
  });

  // --- the rest -------------------------------------------------------------------------------------------------

  test('--keep-on-failure leaves everything for debugging and says what', async () => {
    const w = world({ failAt: 'playbook#1' });
    const err = (await bake(w, { keepOnFailure: true }).catch((e: unknown) => e)) as BakeError;
    expect(w.seq[w.seq.length - 1]).toBe('playbook');
    expect(err.kept).toEqual([
      `builder instance (ziggie-bake-ami-${RUN})`, `security group ${SG} (ziggie-bake-ami-${RUN})`,
      'private key file /tmp/fake/builder_ed25519', `key pair ${KEYPAIR} (ziggie-bake-ami-${RUN})`,
    ]);
  });

  test('the wrong account is refused before anything is created', async () => {
    const w = world({ account: '999999999999' });
    const err = (await bake(w).catch((e: unknown) => e)) as BakeError;
    expect(err.cause).toBeInstanceOf(BakeInputError);
    expect(err.message).toMatch(/account 999999999999, the config is for 111122223333/);
    expect(w.seq).toEqual(['GetCallerIdentity']);
  });

  test('a host key fingerprint that never appears fails, unless --trust-new-host-key', async () => {
    const w = world();
    ec2.on(GetConsoleOutputCommand).callsFake(async () => {
      w.seq.push('GetConsoleOutput');
      return { Output: '' };
    });
    const err = (await bake(w, { timeouts: { consoleFingerprint: 60_000 } }).catch((e: unknown) => e)) as BakeError;
    expect(err.message).toMatch(/timed out after 60 s waiting for the SSH host key fingerprints .*--trust-new-host-key/);
    expect(w.seq.slice(-C_ALL.length)).toEqual(C_ALL);

    const w2 = world();
    ec2.on(GetConsoleOutputCommand).resolves({ Output: '' });
    await bake(w2, { trustNewHostKey: true, timeouts: { consoleFingerprint: 60_000 } });
    expect(w2.targets[0]!.hostKeyFingerprint).toBeUndefined();
  });

  test('a builder type without Latest console output (not Nitro) falls back to the buffered output', async () => {
    const w = world();
    const asked: Array<boolean | undefined> = [];
    ec2.on(GetConsoleOutputCommand).callsFake(async (input: { Latest?: boolean }) => {
      asked.push(input.Latest);
      if (input.Latest) throw Object.assign(new Error('not supported for this instance type'), { name: 'UnsupportedOperation' });
      return { Output: Buffer.from(CONSOLE).toString('base64') };
    });
    await bake(w);
    expect(asked).toEqual([true, undefined]);
    expect(w.targets[0]!.hostKeyFingerprint).toBe(FP);
  });

  test('a base image larger than gpu.rootVolumeGb is refused before anything is created', async () => {
    const small = { ...config, gpu: { ...config.gpu, rootVolumeGb: 50 } };
    const w = world();
    const err = (await bake(w, { config: small }).catch((e: unknown) => e)) as BakeError;
    expect(err.message).toMatch(/75 GB root volume, more than gpu.rootVolumeGb \(50\)/);
    expect(w.seq).toEqual(['GetCallerIdentity', 'GetParameter', 'DescribeImages']);
  });
});

describe('--sweep', () => {
  test('removes leftover builders, groups, keys, unpublished images and orphaned snapshots; never the published image', async () => {
    ec2.reset();
    ssm.reset();
    const calls: string[] = [];
    const rec = (name: string, out: unknown) => async (input: unknown) => {
      calls.push(`${name} ${JSON.stringify(input)}`);
      return out;
    };
    let terminated = false;
    ec2.on(DescribeInstancesCommand).callsFake(async (input: { InstanceIds?: string[] }) => {
      calls.push(`DescribeInstances ${JSON.stringify(input)}`);
      if (!input.InstanceIds) return { Reservations: [{ Instances: [{ InstanceId: 'i-0leak' }] }] };
      return { Reservations: [{ Instances: [{ InstanceId: 'i-0leak', State: { Name: terminated ? 'terminated' : 'shutting-down' } }] }] };
    });
    ec2.on(TerminateInstancesCommand).callsFake(async (input) => {
      calls.push(`TerminateInstances ${JSON.stringify(input)}`);
      terminated = true;
      return {};
    });
    ec2.on(DescribeSecurityGroupsCommand).callsFake(rec('DescribeSecurityGroups', { SecurityGroups: [{ GroupId: 'sg-0leak', GroupName: 'ziggie-bake-ami-x' }] }));
    ec2.on(DeleteSecurityGroupCommand).callsFake(rec('DeleteSecurityGroup', {}));
    ec2.on(DescribeKeyPairsCommand).callsFake(rec('DescribeKeyPairs', { KeyPairs: [{ KeyPairId: 'key-0leak', KeyName: 'ziggie-bake-ami-x' }] }));
    ec2.on(DeleteKeyPairCommand).callsFake(rec('DeleteKeyPair', {}));
    ssm.on(GetParameterCommand).callsFake(rec('GetParameter', { Parameter: { Value: 'ami-0published' } }));
    ec2.on(DescribeImagesCommand).callsFake(async (input: { ImageIds?: string[] }) => {
      calls.push(`DescribeImages ${JSON.stringify(input)}`);
      if (input.ImageIds) return { Images: [{ ImageId: 'ami-0published', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-0published' } }] }] };
      return {
        Images: [
          { ImageId: 'ami-0published', Name: 'published but never retagged', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-0published' } }] },
          { ImageId: 'ami-0crashed', Name: 'crashed bake', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-0crashed' } }] },
        ],
      };
    });
    ec2.on(DeregisterImageCommand).callsFake(rec('DeregisterImage', {}));
    ec2.on(DeleteSnapshotCommand).callsFake(rec('DeleteSnapshot', {}));
    ec2.on(DescribeSnapshotsCommand).callsFake(rec('DescribeSnapshots', {
      Snapshots: [{ SnapshotId: 'snap-0published' }, { SnapshotId: 'snap-0crashed' }, { SnapshotId: 'snap-0orphan' }],
    }));
    const deps = { ec2: new EC2Client({}), ssm: new SSMClient({}), sleep: async () => undefined, now: () => 0, log: () => undefined };
    const r = await sweep(deps, { config });
    expect(r.failed).toEqual([]);
    expect(calls).toEqual([
      `DescribeInstances {"Filters":[{"Name":"tag:${BAKE_TAG}","Values":["builder"]},{"Name":"instance-state-name","Values":["pending","running","stopping","stopped"]}]}`,
      'TerminateInstances {"InstanceIds":["i-0leak"]}',
      'DescribeInstances {"InstanceIds":["i-0leak"]}',
      `DescribeSecurityGroups {"Filters":[{"Name":"tag:${BAKE_TAG}","Values":["builder"]}]}`,
      'DeleteSecurityGroup {"GroupId":"sg-0leak"}',
      `DescribeKeyPairs {"Filters":[{"Name":"tag:${BAKE_TAG}","Values":["builder"]}]}`,
      'DeleteKeyPair {"KeyPairId":"key-0leak"}',
      'GetParameter {"Name":"/ziggie/comfyui/ami-id"}',
      `DescribeImages {"Owners":["self"],"Filters":[{"Name":"tag:${BAKE_TAG}","Values":["image-unpublished"]}]}`,
      'DeregisterImage {"ImageId":"ami-0crashed"}',
      'DeleteSnapshot {"SnapshotId":"snap-0crashed"}',
      'DescribeImages {"ImageIds":["ami-0published"]}',
      `DescribeSnapshots {"OwnerIds":["self"],"Filters":[{"Name":"tag:${BAKE_TAG}","Values":["image-unpublished"]}]}`,
      'DeleteSnapshot {"SnapshotId":"snap-0orphan"}',
    ]);
  });

  test('--dry-run lists and removes nothing', async () => {
    ec2.reset();
    ssm.reset();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0leak' }] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2.on(DescribeKeyPairsCommand).resolves({ KeyPairs: [{ KeyPairId: 'key-0leak', KeyName: 'k' }] });
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    const r = await sweep({ ec2: new EC2Client({}), ssm: new SSMClient({}), sleep: async () => undefined, now: () => 0, log: () => undefined }, { config, dryRun: true });
    expect(r.found).toEqual(['builder instance(s) i-0leak', 'key pair key-0leak (k)']);
    expect(r.removed).toEqual([]);
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteKeyPairCommand)).toHaveLength(0);
  });
});

describe('helpers', () => {
  test('sshCidr: one address, or a narrow CIDR; nothing wide, nothing malformed', () => {
    expect(sshCidr('198.51.100.23', 'x')).toBe('198.51.100.23/32');
    expect(sshCidr(' 198.51.100.23\n', 'x')).toBe('198.51.100.23/32');
    expect(sshCidr('198.51.100.0/28', 'x')).toBe('198.51.100.0/28');
    expect(() => sshCidr('0.0.0.0/0', '--my-ip')).toThrow(/--my-ip: 0.0.0.0\/0 is wider than a \/24/);
    expect(() => sshCidr('<html>', 'checkip')).toThrow(BakeInputError);
  });

  test('imageName: sortable, AMI-safe', () => {
    expect(imageName('v0.3.40', new Date('2026-03-04T05:06:07.890Z'))).toBe('ziggie-comfyui-v0.3.40-20260304-050607Z');
    expect(imageName('feature/x y', new Date(0))).toBe('ziggie-comfyui-feature_x_y-19700101-000000Z');
  });
});

describe('npm run bake-ami (the CLI)', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { runBakeCli, newRunId } = require('../../../ami/cli') as typeof import('../../../ami/cli');
  const { EventEmitter } = require('node:events') as typeof import('node:events');

  function cli(w: World, args: string[], extra: Partial<BakeDeps> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const signals = new EventEmitter();
    const exits: number[] = [];
    const { ec2: _e, ssm: _s, sts: _t, log: _l, ...override } = w.deps;
    const run = runBakeCli(args, {
      out: (l) => out.push(l), err: (l) => err.push(l), signals,
      exit: ((code: number) => { exits.push(code); throw new Error(`exit ${code}`); }) as (code: number) => never,
    }, { ...override, ...extra });
    return { run, out, err, signals, exits };
  }

  test('bakes, publishes and prints the image id; --my-ip means no checkip call (offline)', async () => {
    const w = world();
    const c = cli(w, ['--my-ip', '192.0.2.9'], { myIp: async () => { throw new Error('checkip must not be called'); } });
    expect(await c.run).toBe(0);
    expect(c.out).toContain(`image ${IMAGE} (ziggie-comfyui-v0.3.40-20260101-000015Z) published to /ziggie/comfyui/ami-id`);
    expect(c.out.some((l) => /^✓ run the ComfyUI playbook \(\d/.test(l))).toBe(true);
    expect(w.seq).not.toContain('checkip');
    expect(w.seq.slice(-C_ALL.length)).toEqual(C_ALL);
  });

  test('Ctrl-C during the playbook: cleans up, exits 130; a second Ctrl-C abandons the cleanup', async () => {
    const w = world();
    let c!: ReturnType<typeof cli>;
    c = cli(w, ['--my-ip', '192.0.2.9'], {
      provision: async () => {
        w.seq.push('playbook');
        c.signals.emit('SIGINT');
        return new Promise(() => undefined);
      },
    });
    expect(await c.run).toBe(130);
    expect(w.seq.slice(w.seq.indexOf('playbook') + 1)).toEqual(C_ALL);
    expect(c.err.join('\n')).toMatch(/SIGINT: stopping; removing what this run created[\s\S]*interrupted; everything it created was removed/);
    expect(c.signals.listenerCount('SIGINT')).toBe(0);

    const w2 = world();
    let c2!: ReturnType<typeof cli>;
    c2 = cli(w2, ['--my-ip', '192.0.2.9'], {
      provision: async () => {
        c2.signals.emit('SIGINT');
        expect(() => c2.signals.emit('SIGINT')).toThrow('exit 130');
        throw new Error('gone');
      },
    });
    await c2.run;
    expect(c2.exits).toEqual([130]);
    expect(c2.err.join('\n')).toMatch(/SIGINT again: abandoning the cleanup\. Remove what is left with: npm run bake-ami -- --sweep/);
  });

  test('a failure exits 1 and says everything was removed', async () => {
    const w = world({ failAt: 'RunInstances#1' });
    const c = cli(w, ['--my-ip', '192.0.2.9']);
    expect(await c.run).toBe(1);
    expect(c.err.join('\n')).toMatch(/bake-ami failed: .*injected failure at RunInstances#1[\s\S]*everything this run created was removed/);
  });

  test('bad input exits 2: a malformed --my-ip, --dry-run without --sweep, an unknown flag, a broken config', async () => {
    const w = world();
    const bad = cli(w, ['--my-ip', '0.0.0.0/0']);
    expect(await bad.run).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--my-ip: 0\.0\.0\.0\/0 is wider than a \/24/);
    expect(w.seq).not.toContain('CreateKeyPair');
    expect(await cli(world(), ['--dry-run']).run).toBe(2);
    expect(await cli(world(), ['--frobnicate']).run).toBe(2);
    const broken = cli(world(), ['--config', '/nonexistent/ziggie.yaml']);
    expect(await broken.run).toBe(2);
    expect(broken.err.join('\n')).toMatch(/config error: .*cannot read/);
  });

  test('--sweep --dry-run through the CLI', async () => {
    const w = world();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2.on(DescribeKeyPairsCommand).resolves({ KeyPairs: [] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    const c = cli(w, ['--sweep', '--dry-run']);
    expect(await c.run).toBe(0);
    expect(c.out).toContain('  nothing left behind by earlier bakes');
  });

  test('run ids sort by time and fit a client token', () => {
    const id = newRunId(new Date('2026-05-06T07:08:09.123Z'));
    expect(id).toMatch(/^20260506T070809Z-[0-9a-f]{6}$/);
    expect(id.length).toBeLessThanOrEqual(64);
  });
});
