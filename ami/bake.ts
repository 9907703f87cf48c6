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
import { ziggieNames } from '../shared/names';
import { CleanupStack, type CleanupFailure } from './cleanup';
import {
  checkAccount, createImage, createKeyPair, createSecurityGroup, findBuilderSubnet, findSshCidr, launchBuilder,
  publishImage, readHostKey, resolveBaseImage, stopBuilder, waitForImage, waitUntilRunning, type BakeRun,
} from './phases';
import { Progress } from './progress';
import { removeContext } from './remove';
import {
  BAKE_TAG, BakeError, DEFAULT_TIMEOUTS, RUN_TAG, toTags, type BakeDeps, type BakeOptions, type BakeResult, type BuilderTarget,
} from './types';
import { InterruptedError, raceInterrupt } from './wait';

export * from './types';
export { imageName, sshCidr } from './phases';
export { deleteImage } from './remove';
export { sweep, type SweepOptions, type SweepResult } from './sweep';

export async function bakeAmi(deps: BakeDeps, opts: BakeOptions): Promise<BakeResult> {
  const { config, runId, signal } = opts;
  const progress = new Progress(deps.log, deps.now);
  const resourceName = `ziggie-bake-ami-${runId}`;
  const run: BakeRun = {
    deps, opts, config,
    names: ziggieNames(config),
    timeouts: { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) },
    spot: opts.spot ?? config.amiBuild.useSpot,
    cleanup: new CleanupStack(),
    remove: removeContext(deps, opts.timeouts),
    resourceName,
    builderTags: [
      ...toTags(config.tags), { Key: 'Name', Value: resourceName }, { Key: BAKE_TAG, Value: 'builder' }, { Key: RUN_TAG, Value: runId },
    ],
  };
  const phase = <T>(name: string, fn: () => Promise<T>) => progress.phase(name, signal, fn);

  try {
    const account = await phase('check the AWS account', () => checkAccount(run));
    deps.log(`  account ${account}, region ${config.region}, builder ${config.amiBuild.builderInstanceType} (${run.spot ? 'Spot' : 'on-demand'})`);
    const base = await phase('resolve the base image', () => resolveBaseImage(run));
    const cidr = await phase('find your IP', () => findSshCidr(run));
    deps.log(`  SSH will be admitted from ${cidr} only`);
    const subnet = await phase('find the builder subnet', () => findBuilderSubnet(run));

    const key = await phase('create a temporary key pair', () => createKeyPair(run));
    const groupId = await phase('create a security group (SSH from your IP)', () => createSecurityGroup(run, subnet.vpcId, cidr));
    const builder = await phase(`launch the builder (${run.spot ? 'Spot' : 'on-demand'})`, () => launchBuilder(run, base, subnet, groupId));
    const instance = await phase('wait until the builder runs', () => waitUntilRunning(run, builder));
    const host = instance.PublicIpAddress;
    if (!host) throw new Error(`builder ${builder} has no public IP address (subnet ${subnet.subnetId})`);
    const fingerprint = await phase('read the SSH host key from the console', () => readHostKey(run, builder));
    if (fingerprint) deps.log(`  ED25519 ${fingerprint}`);
    const target: BuilderTarget = {
      instanceId: builder, host, user: config.amiBuild.sshUser,
      privateKeyFile: key.file.path, knownHostsFile: key.file.knownHostsPath, hostKeyFingerprint: fingerprint,
    };

    await phase(`wait for SSH on ${host}`, () => raceInterrupt(deps.waitForSsh(target, signal), signal));
    await phase('run the ComfyUI playbook', () => raceInterrupt(deps.provision(target, signal), signal));
    if (!run.spot) await phase('stop the builder', () => stopBuilder(run, builder));

    const created = await phase('create the image', () => createImage(run, builder, base));
    const image = await phase('wait until the image is available', () => waitForImage(run, created.imageId));
    await phase(`publish the image id to ${config.gpu.amiSsmParameter}`, () => publishImage(run, created, image));

    return {
      imageId: created.imageId, imageName: created.name, parameter: config.gpu.amiSsmParameter, baseAmi: base.imageId,
      builder: { instanceId: builder, spot: run.spot, subnetId: subnet.subnetId },
      phases: progress.phases,
      leaked: await cleanUp(run, progress),
    };
  } catch (e) {
    const kept = opts.keepOnFailure ? run.cleanup.pending() : [];
    const leaked = opts.keepOnFailure ? [] : await cleanUp(run, progress);
    if (opts.keepOnFailure && kept.length) {
      deps.log(`--keep-on-failure: left for debugging (remove with npm run bake-ami -- --sweep):`);
      for (const k of kept) deps.log(`  ${k}`);
    }
    const what = e instanceof InterruptedError ? 'interrupted' : (e as Error)?.message ?? String(e);
    throw new BakeError(what, e, leaked, kept, progress.phases);
  }
}

/** Unwind the run's cleanup stack (not interruptible: an interrupted cleanup would leak). */
async function cleanUp(run: BakeRun, progress: Progress): Promise<CleanupFailure[]> {
  if (!run.cleanup.pending().length) return [];
  const leaked = await progress.phase('clean up', undefined, () => run.cleanup.run(run.deps.log));
  if (leaked.length) {
    run.deps.log('cleanup could not remove (npm run bake-ami -- --sweep removes them later):');
    for (const l of leaked) run.deps.log(`  ${l.label}: ${l.error}`);
  }
  return leaked;
}
