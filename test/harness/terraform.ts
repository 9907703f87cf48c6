/**
 * The offline Terraform tier: the real terraform binary and the real hashicorp/aws provider from a filesystem
 * mirror validate and plan each synthesized stack with no AWS account and no network.
 *
 * Only a copy of each stack is touched: it gets mock credentials with the provider's skip flags, a local backend,
 * and local placeholder state for cross-stack references. What users deploy is never changed.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import type { SynthesizedStack, TerraformJson } from '../../shared/terraform-json';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');

export const TERRAFORM = process.env.TERRAFORM_BIN ?? 'terraform';
export const PLUGIN_MIRROR = process.env.TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';
export const WORK_ROOT = path.resolve(process.env.ZIGGIE_TF_WORKDIR ?? path.join(REPO, '.cache/terraform'));

export interface Diagnostic { severity: string; summary: string; detail?: string; address?: string }

export interface OfflinePlan {
  stack: string;
  dir: string;
  /** Exit status of `terraform plan`: 0 when the configuration validated and planned. */
  exitCode: number;
  /** Every diagnostic of the plan, validation included (plan validates first). */
  diagnostics: Diagnostic[];
  /** The plan's resource changes, from its `planned_change` messages. */
  changes: Array<{ address: string; action: string }>;
  /** The saved plan (`-out`), a zip of the binary plan, the configuration and the prior state. */
  planFile: string;
  timings: Record<'init' | 'plan', number>;
}

/** Why the tier cannot run here, or undefined when it can. */
export function terraformUnavailableReason(): string | undefined {
  const provider = path.join(PLUGIN_MIRROR, 'registry.terraform.io/hashicorp/aws');
  try {
    accessSync(provider, constants.R_OK);
  } catch {
    return `no hashicorp/aws provider in the mirror ${PLUGIN_MIRROR} (set TF_PLUGIN_MIRROR)`;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (TERRAFORM.includes('/') ? existsSync(TERRAFORM) : existsSync(path.join(dir, TERRAFORM))) return undefined;
  }
  return `terraform binary "${TERRAFORM}" not found on PATH`;
}

/** The shipped CLI config (terraform/mirror.tfrc) with this machine's mirror path: terraform expands no env. */
export function cliConfigFile(): string {
  const shipped = readFileSync(path.join(REPO, 'terraform/mirror.tfrc'), 'utf8');
  const text = shipped.replace('"/opt/tf-plugins"', JSON.stringify(PLUGIN_MIRROR));
  if (!text.includes(JSON.stringify(PLUGIN_MIRROR))) throw new Error('terraform/mirror.tfrc: no filesystem_mirror path "/opt/tf-plugins" to replace');
  mkdirSync(WORK_ROOT, { recursive: true });
  const file = path.join(WORK_ROOT, 'mirror.tfrc');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Real credentials in the caller's environment must never reach a test plan.
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('TF_VAR_')) delete env[key];
  return {
    ...env,
    TF_CLI_CONFIG_FILE: cliConfigFile(),
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    DISABLE_VERSION_CHECK: '1',
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The test-only provider settings: any credentials plus every flag that would otherwise call AWS. */
const OFFLINE_PROVIDER = {
  access_key: 'offline-test-access-key',
  secret_key: 'offline-test-secret-key',
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  skip_region_validation: true,
};

/**
 * The stack as the test tier plans it. `stacks` are all synthesized stacks: a cross-stack reference (cdktf's
 * `terraform_remote_state`) is pointed at a local state file holding placeholders for the upstream's outputs.
 */
export function offlineCopy(stack: SynthesizedStack, stacks: SynthesizedStack[], dir: string): TerraformJson {
  const json = structuredClone(stack.json);
  json.terraform = { ...json.terraform, backend: { local: { path: 'terraform.tfstate' } } };
  for (const [name, blocks] of Object.entries(json.provider ?? {})) {
    if (name !== 'aws') continue;
    // The account pin needs the real caller identity, which an offline plan cannot ask for.
    json.provider!.aws = blocks.map(({ allowed_account_ids: _pin, ...block }) => ({ ...block, ...OFFLINE_PROVIDER }));
  }
  const remote = json.data?.terraform_remote_state ?? {};
  for (const [name, ref] of Object.entries(remote)) {
    const upstream = upstreamOf(ref, stacks);
    const stateFile = path.join(dir, `remote-${name}.tfstate`);
    writeFileSync(stateFile, JSON.stringify(placeholderState(upstream)));
    remote[name] = { ...ref, backend: 'local', config: { path: stateFile } };
  }
  return json;
}

function upstreamOf(ref: Record<string, unknown>, stacks: SynthesizedStack[]): SynthesizedStack {
  const key = String((ref.config as Record<string, unknown> | undefined)?.key ?? (ref.config as Record<string, unknown> | undefined)?.path ?? '');
  const name = path.basename(key).replace(/\.tfstate$/, '');
  const found = stacks.find((s) => s.name === name);
  if (!found) throw new Error(`terraform_remote_state ${key}: no synthesized stack named "${name}"`);
  return found;
}

/** A v4 state file whose outputs are well-formed stand-ins (ids, ARNs) for what the upstream would export. */
export function placeholderState(upstream: SynthesizedStack): object {
  const outputs: Record<string, { value: string; type: string }> = {};
  for (const [name, output] of Object.entries(upstream.json.output ?? {})) {
    outputs[name] = { value: placeholderFor(name, String(output.value)), type: 'string' };
  }
  return { version: 4, terraform_version: '1.11.4', serial: 1, lineage: `offline-${upstream.name}`, outputs, resources: [] };
}

function placeholderFor(name: string, expression: string): string {
  const match = /\$\{([a-z0-9_]+)\.[^.]+\.([a-z0-9_]+)\}/.exec(expression);
  const type = match?.[1] ?? '';
  const attribute = match?.[2] ?? name;
  if (attribute.endsWith('arn')) return `arn:aws:iam::111122223333:role/offline-${type || 'placeholder'}`;
  const prefix: Record<string, string> = {
    aws_vpc: 'vpc', aws_subnet: 'subnet', aws_security_group: 'sg', aws_internet_gateway: 'igw',
    aws_route_table: 'rtb', aws_instance: 'i', aws_launch_template: 'lt',
  };
  return `${prefix[type] ?? 'offline'}-0123456789abcdef0`;
}

async function terraform(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout } = await run(TERRAFORM, [`-chdir=${dir}`, ...args], { env, maxBuffer: 256 * 1024 * 1024 });
    return { stdout, ms: Date.now() - started };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`terraform ${args[0]} failed in ${dir}:\n${e.stderr || e.stdout || e.message}`);
  }
}

/**
 * init → plan on an offline copy of one stack. One `terraform plan -json` validates and plans: its JSON stream
 * carries the diagnostics and each planned change, so neither `validate` nor `show -json` (each of which starts
 * the 700 MB provider again to read its schema) is needed here. The PR review's plan JSON is tested in
 * review-plan.test.ts.
 */
export async function planOffline(stack: SynthesizedStack, stacks: SynthesizedStack[]): Promise<OfflinePlan> {
  const dir = path.join(WORK_ROOT, stack.name);
  // Keep .terraform (provider links) between runs; everything else is rebuilt from the fresh synth.
  for (const entry of ['cdk.tf.json', 'assets', 'terraform.tfstate', 'plan.bin', 'plan.json']) {
    rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  if (existsSync(path.join(stack.dir, 'assets'))) cpSync(path.join(stack.dir, 'assets'), path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(offlineCopy(stack, stacks, dir), null, 2));

  const env = offlineEnv();
  const init = await terraform(dir, ['init', '-input=false', '-no-color'], env);
  const started = Date.now();
  // plan exits 1 on an invalid configuration but still prints its JSON stream: read it either way.
  const planRun = await run(TERRAFORM, [`-chdir=${dir}`, 'plan', '-json', '-input=false', '-no-color', '-lock=false', '-out=plan.bin'],
    { env, maxBuffer: 256 * 1024 * 1024 })
    .then((r) => ({ stdout: r.stdout, code: 0 }), (err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', code: err.code ?? 1 }));
  const messages = planRun.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as PlanMessage);
  return {
    stack: stack.name,
    dir,
    exitCode: planRun.code,
    diagnostics: messages.filter((m) => m.type === 'diagnostic').map((m) => m.diagnostic!),
    changes: messages.filter((m) => m.type === 'planned_change').map((m) => ({ address: m.change!.resource.addr, action: m.change!.action })),
    planFile: path.join(dir, 'plan.bin'),
    timings: { init: init.ms, plan: Date.now() - started },
  };
}

/** One line of `terraform plan -json` (the machine-readable UI); only the fields the tier reads. */
interface PlanMessage {
  type: string;
  diagnostic?: Diagnostic;
  change?: { resource: { addr: string }; action: string };
}

/** The uncompressed entries of a saved plan (tfplan, tfconfig/*, tfstate …), to search them byte for byte. */
export function savedPlanEntries(planFile: string): Array<{ name: string; data: Buffer }> {
  return new AdmZip(planFile).getEntries().map((e) => ({ name: e.entryName, data: e.getData() }));
}

/** Plan every stack, `concurrency` at a time (terraform and the provider each take a core). */
export async function planAllOffline(stacks: SynthesizedStack[], concurrency = 2): Promise<OfflinePlan[]> {
  const results: OfflinePlan[] = new Array(stacks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, stacks.length) }, async () => {
    while (next < stacks.length) {
      const i = next++;
      results[i] = await planOffline(stacks[i], stacks);
    }
  }));
  return results;
}
