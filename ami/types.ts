/**
 * What a bake is given and returns: its dependencies (AWS clients and the injected SSH, playbook, checkip, key file,
 * sleep and clock), options, timeouts, result and errors, and the tags that mark what it creates.
 */
import type { EC2Client, Tag } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import type { ZiggieConfig } from '../config/schema';
import { BAKE_AMI_TAG } from '../shared/names';
import type { CleanupFailure } from './cleanup';
import type { PhaseTiming } from './progress';
import { InterruptedError, type Sleep } from './wait';

/** Every resource a bake creates carries this tag: "builder" (instance, volume, key pair, security group),
 *  "image-unpublished" (image, snapshots until the SSM parameter names the image), "image" (published). */
export const BAKE_TAG = BAKE_AMI_TAG;
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
