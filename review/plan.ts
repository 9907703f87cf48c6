import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diffAttributes, displayValue, pathFromSteps, pathWithin } from './attributes';
import { MASK } from './mask';
import type { Action, OutputChange, ResourceChange, StackChanges } from './types';

/**
 * The parts of `terraform show -json <planfile>` this reads (format_version 1.x):
 * https://developer.hashicorp.com/terraform/internals/json-format
 */
export interface PlanJson {
  format_version?: string;
  terraform_version?: string;
  resource_changes?: PlanResourceChange[];
  resource_drift?: PlanResourceChange[];
  output_changes?: Record<string, PlanChange>;
  errored?: boolean;
  [key: string]: unknown;
}

export interface PlanResourceChange {
  address: string;
  previous_address?: string;
  module_address?: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  index?: string | number;
  action_reason?: string;
  change: PlanChange & { replace_paths?: (string | number)[][]; importing?: { id?: string } };
}

export interface PlanChange {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
}

/** Terraform's action_reason values in words. */
const REASONS: Record<string, string> = {
  replace_because_tainted: 'the object is tainted',
  replace_because_cannot_update: 'a changed attribute cannot be updated in place',
  replace_by_request: 'replacement requested (-replace)',
  replace_by_triggers: 'replace_triggered_by changed',
  delete_because_no_resource_config: 'no longer in the configuration',
  delete_because_no_module: 'its module is no longer in the configuration',
  delete_because_wrong_repetition: 'count/for_each changed shape',
  delete_because_count_index: 'its count index is out of range',
  delete_because_each_key: 'its for_each key is gone',
  delete_because_no_move_target: 'the moved-to address does not exist',
  read_because_config_unknown: 'its configuration depends on values known only after apply',
  read_because_dependency_pending: 'it depends on a resource with pending changes',
  read_because_check_nested: 'a check block reads it',
};

export function planAction(actions: readonly string[]): Action {
  const a = actions.join(',');
  if (a === 'delete,create' || a === 'create,delete') return 'replace';
  if (['create', 'update', 'delete', 'read', 'no-op', 'forget'].includes(a)) return a as Action;
  throw new Error(`plan: unknown actions [${a}]`);
}

export function readPlanFile(file: string): PlanJson {
  const text = readFileSync(file, 'utf8');
  let plan: PlanJson;
  try {
    plan = JSON.parse(text) as PlanJson;
  } catch (err) {
    throw new Error(`${file}: not JSON (pass the output of \`terraform show -json plan.bin\`): ${(err as Error).message}`);
  }
  if (typeof plan !== 'object' || plan === null || !plan.format_version) {
    throw new Error(`${file}: no format_version: not a \`terraform show -json\` plan`);
  }
  if (!String(plan.format_version).startsWith('1.')) throw new Error(`${file}: plan format ${plan.format_version} is not supported (1.x is)`);
  return plan;
}

/**
 * `--plan gpu=plans/gpu.json`, `--plan .cache/terraform/gpu/plan.json` (the directory names the stack) or
 * `--plan gpu.plan.json` → the stack name and the file.
 */
export function planArgument(arg: string): { stack: string; file: string } {
  const eq = arg.indexOf('=');
  if (eq > 0 && !arg.slice(0, eq).includes('/')) return { stack: arg.slice(0, eq), file: arg.slice(eq + 1) };
  const base = path.basename(arg);
  const stem = base.replace(/(\.plan)?\.json$/, '');
  const stack = stem === 'plan' || stem === base ? path.basename(path.dirname(path.resolve(arg))) : stem;
  return { stack, file: arg };
}

/** A real plan as the same per-stack change list the synth diff produces. */
export function summarizePlan(stack: string, plan: PlanJson): StackChanges {
  const changes: ResourceChange[] = [];
  let unchanged = 0;
  const notes: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const action = planAction(rc.change.actions);
    if (action === 'no-op') {
      unchanged++;
      continue;
    }
    const replacePaths = (rc.change.replace_paths ?? []).map(pathFromSteps);
    const attributes = diffAttributes(rc.change.before, rc.change.after, {
      beforeSensitive: rc.change.before_sensitive,
      afterSensitive: rc.change.after_sensitive,
      afterUnknown: rc.change.after_unknown,
      forcesReplacement: (p) => replacePaths.some((r) => pathWithin(p, r)),
    });
    changes.push({
      stack,
      address: rc.address,
      type: rc.type,
      action,
      before: asObject(rc.change.before),
      after: asObject(rc.change.after),
      attributes,
      ...(rc.action_reason ? { reason: REASONS[rc.action_reason] ?? rc.action_reason } : {}),
      ...(replacePaths.length ? { replacePaths } : {}),
      ...(rc.previous_address && rc.previous_address !== rc.address ? { previousAddress: rc.previous_address } : {}),
    });
    if (rc.change.importing) notes.push(`${rc.address} is imported (id ${rc.change.importing.id ?? '?'})`);
  }
  const drift = plan.resource_drift ?? [];
  if (drift.length > 0) notes.push(`${drift.length} resource(s) changed outside Terraform since the last apply (resource_drift): ${drift.map((d) => d.address).slice(0, 5).join(', ')}`);
  if (plan.errored) notes.push('the plan errored: it is incomplete');
  const outputs = planOutputs(plan.output_changes ?? {});
  return {
    stack,
    source: 'plan',
    status: changes.length + outputs.length > 0 ? 'changed' : 'unchanged',
    changes,
    outputs,
    unchanged,
    notes,
  };
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function planOutputs(changes: Record<string, PlanChange>): OutputChange[] {
  const out: OutputChange[] = [];
  for (const [name, c] of Object.entries(changes).sort(([a], [b]) => a.localeCompare(b))) {
    const action = planAction(c.actions);
    if (action === 'no-op') continue;
    const sensitive = c.before_sensitive === true || c.after_sensitive === true;
    const show = (v: unknown, unknown?: boolean) => (unknown ? '(known after apply)' : sensitive ? MASK : v === null || v === undefined ? undefined : displayValue(v));
    const kind = action === 'create' ? 'create' : action === 'delete' ? 'delete' : 'update';
    out.push({ name, action: kind, before: show(c.before), after: show(c.after, c.after_unknown === true), sensitive });
  }
  return out;
}
