/**
 * `npm run bake-ami` (scripts/bake-ami.mts): bake the ComfyUI AMI and publish its id (see docs/bake-ami.md).
 *
 *   npm run bake-ami -- [--my-ip 203.0.113.7] [--subnet-id subnet-…] [--base-ami ami-…] [--on-demand|--spot]
 *                       [--keep-on-failure] [--trust-new-host-key] [--allow-cpu] [--config file]
 *   npm run bake-ami -- --sweep [--dry-run]
 *
 * Exit codes: 0 baked and published (or swept); 1 failed (everything it created was removed); 2 bad input;
 * 3 baked and published but cleanup left something (run --sweep); 130 interrupted (cleaned up).
 */
import { randomBytes } from 'node:crypto';
import { Option } from 'commander';
import { cliProgram, runProgram, usageError } from '../shared/cli';
import type { BakeDeps } from './bake';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** where SIGINT/SIGTERM handlers go (tests pass an EventEmitter) */
  signals?: NodeJS.EventEmitter;
  exit?: (code: number) => never;
}

/** A run id: sortable, unique enough for names and the RunInstances client token. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export async function runBakeCli(argv: string[], io: CliIo, override: Partial<BakeDeps> = {}): Promise<number> {
  let code = 0;
  const program = cliProgram('bake-ami', 'Bake the ComfyUI AMI on a temporary builder and publish its id to SSM; --sweep removes what crashed runs left',
    { out: (s) => io.out(s.replace(/\n$/, '')), err: (s) => io.err(s.replace(/\n$/, '')) })
    .option('--config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
    .option('--my-ip <ipv4>', 'the address admitted to SSH (default: ask https://checkip.amazonaws.com)')
    .option('--subnet-id <id>', "the builder's subnet (default: the network stack's public subnet, found by its tags)")
    .option('--base-ami <id>', 'base image (default: the SSM public parameter amiBuild.baseAmiSsmParameter)')
    .addOption(new Option('--spot', 'a Spot builder (default: amiBuild.useSpot)').conflicts('onDemand'))
    .addOption(new Option('--on-demand', 'an on-demand builder').conflicts('spot'))
    .option('--keep-on-failure', 'leave the builder, key and group for debugging when something fails', false)
    .option('--trust-new-host-key', "trust the builder's first SSH host key if the console shows no fingerprint", false)
    .option('--allow-cpu', 'the builder has no NVIDIA driver (a CPU smoke bake; ComfyUI runs with --cpu)', false)
    .option('--sweep', 'remove builders, keys, groups and unpublished images left by crashed runs', false)
    .option('--dry-run', 'with --sweep: list, remove nothing', false)
    .action(async (o: BakeOptions) => {
      if (o.dryRun && !o.sweep) usageError(program, '--dry-run goes with --sweep');
      // every flag's value is checked here, before the config is read or AWS is called
      const { BakeInputError, sshCidr } = await import('./bake.js');
      try {
        if (o.myIp) sshCidr(o.myIp, '--my-ip');
        if (o.subnetId && !/^subnet-[0-9a-f]{8,17}$/.test(o.subnetId)) throw new BakeInputError(`--subnet-id: ${JSON.stringify(o.subnetId)} is not a subnet id such as subnet-0123456789abcdef0`);
        if (o.baseAmi && !/^ami-[0-9a-f]{8,17}$/.test(o.baseAmi)) throw new BakeInputError(`--base-ami: ${JSON.stringify(o.baseAmi)} is not an AMI id such as ami-0123456789abcdef0`);
      } catch (e) {
        io.err(`bake-ami: ${(e as Error).message}`);
        code = 2;
        return;
      }
      code = await bake(o, io, override);
    });
  const usage = await runProgram(program, argv, 'user');
  return usage || code;
}

interface BakeOptions {
  config?: string; myIp?: string; subnetId?: string; baseAmi?: string; spot?: boolean; onDemand?: boolean;
  keepOnFailure: boolean; trustNewHostKey: boolean; allowCpu: boolean; sweep: boolean; dryRun: boolean;
}

async function bake(o: BakeOptions, io: CliIo, override: Partial<BakeDeps>): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [{ EC2Client }, { SSMClient }, { STSClient }, { ConfigError, configPath, loadConfig }, { awsClient, awsClientConfig }, { explainAwsError },
    { playbookHash }, { BakeError, BakeInputError, bakeAmi, sweep }, { formatMs }, { checkIp, remoteDeps, writeKeyFile }, { realSleep }] = await Promise.all([
    import('@aws-sdk/client-ec2'), import('@aws-sdk/client-ssm'), import('@aws-sdk/client-sts'), import('../config/load.js'),
    import('../ops/aws/clients.js'), import('../ops/aws/errors.js'), import('../playbooks/comfyui-ami.js'), import('./bake.js'),
    import('./progress.js'), import('./remote.js'), import('./wait.js'),
  ]);

  let config;
  try {
    config = loadConfig(o.config ?? configPath());
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 2;
    }
    throw e;
  }

  const aws = awsClientConfig(config);
  const deps: BakeDeps = {
    ec2: awsClient((c) => new EC2Client(c), aws),
    ssm: awsClient((c) => new SSMClient(c), aws),
    sts: awsClient((c) => new STSClient(c), aws),
    myIp: (signal) => checkIp(signal),
    writeKey: (material) => writeKeyFile(material),
    ...remoteDeps({ config, trustNewHostKey: o.trustNewHostKey, allowCpu: o.allowCpu, log: io.out }),
    sleep: realSleep,
    now: Date.now,
    log: io.out,
    ...override,
  };

  if (o.sweep) {
    try {
      io.out(`bake-ami --sweep${o.dryRun ? ' --dry-run' : ''}: resources tagged ziggie:bake-ami in ${config.region}`);
      const r = await sweep(deps, { config, dryRun: o.dryRun });
      return r.failed.length ? 1 : 0;
    } catch (e) {
      io.err(`bake-ami --sweep: ${explainAwsError(e, 'sweeping')}`);
      return 1;
    }
  }

  const controller = new AbortController();
  const signals = io.signals ?? process;
  let interrupts = 0;
  const onSignal = (name: string) => () => {
    interrupts++;
    if (interrupts === 1) {
      io.err(`\n${name}: stopping; removing what this run created (press Ctrl-C again to abandon the cleanup)`);
      controller.abort();
    } else {
      io.err(`${name} again: abandoning the cleanup. Remove what is left with: npm run bake-ami -- --sweep`);
      (io.exit ?? process.exit)(130);
    }
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);

  const runId = newRunId();
  io.out(`bake-ami run ${runId}: ComfyUI ${config.comfyui.ref} -> ${config.gpu.amiSsmParameter} (${config.region})`);
  try {
    const r = await bakeAmi(deps, {
      config, runId, signal: controller.signal, playbookSha256: playbookHash(),
      baseAmi: o.baseAmi, subnetId: o.subnetId, myIp: o.myIp,
      spot: o.spot ? true : o.onDemand ? false : undefined,
      keepOnFailure: o.keepOnFailure, trustNewHostKey: o.trustNewHostKey,
    });
    io.out('');
    io.out(`image ${r.imageId} (${r.imageName}) published to ${r.parameter}`);
    io.out(`phases: ${r.phases.map((p) => `${p.name} ${formatMs(p.ms)}`).join(', ')}`);
    if (r.leaked.length) {
      io.err(`baked, but cleanup left ${r.leaked.length} resource(s): run npm run bake-ami -- --sweep`);
      return 3;
    }
    return 0;
  } catch (e) {
    if (e instanceof BakeError) {
      if (e.interrupted) {
        io.err(`bake-ami: interrupted${e.leaked.length ? `; cleanup left ${e.leaked.length} resource(s): run --sweep` : '; everything it created was removed'}`);
        return 130;
      }
      const cause = e.cause;
      if (cause instanceof BakeInputError) {
        io.err(`bake-ami: ${cause.message}`);
        return 2;
      }
      io.err(`bake-ami failed: ${explainAwsError(cause, 'baking the AMI')}`);
      if (e.kept.length) io.err(`kept for debugging (--keep-on-failure): ${e.kept.join('; ')}`);
      else if (e.leaked.length) io.err(`cleanup left ${e.leaked.length} resource(s): run npm run bake-ami -- --sweep`);
      else io.err('everything this run created was removed');
      return 1;
    }
    throw e;
  } finally {
    signals.removeListener('SIGINT', onInt);
    signals.removeListener('SIGTERM', onTerm);
  }
}
