import { resourcesOf, type SynthesizedStack, type TerraformResource } from '../shared/terraform-json';
import { diffAttributes, displayValue } from './attributes';
import { MASK } from './mask';
import { forcesReplacement } from './replacement';
import type { OutputChange, ResourceChange, StackChanges } from './types';

/** cdktf's metadata block: it changes with construct paths, never what AWS sees. */
const IGNORED_KEYS = ['//'];

type StackLike = Pick<SynthesizedStack, 'name' | 'json'>;

/** Base vs head synthesized stacks: per stack, the resources added, removed and changed (attribute level). */
export function diffSynth(base: readonly StackLike[], head: readonly StackLike[]): StackChanges[] {
  const names = [...new Set([...head.map((s) => s.name), ...base.map((s) => s.name)])];
  return names.map((name) => diffStack(base.find((s) => s.name === name), head.find((s) => s.name === name)));
}

function diffStack(base: StackLike | undefined, head: StackLike | undefined): StackChanges {
  const stack = (head ?? base)!.name;
  const before = new Map((base ? resourcesOf(base) : []).map((r) => [r.address, r]));
  const after = new Map((head ? resourcesOf(head) : []).map((r) => [r.address, r]));
  const changes: ResourceChange[] = [];
  let unchanged = 0;
  for (const address of [...new Set([...after.keys(), ...before.keys()])]) {
    const b = before.get(address);
    const a = after.get(address);
    const r = (a ?? b)!;
    if (!b) {
      changes.push(change(r, 'create', undefined, a!.config, diffAttributes(undefined, a!.config, { ignoreKeys: IGNORED_KEYS })));
      continue;
    }
    if (!a) {
      changes.push(change(r, 'delete', b.config, undefined, diffAttributes(b.config, undefined, { ignoreKeys: IGNORED_KEYS })));
      continue;
    }
    const attributes = diffAttributes(b.config, a.config, {
      ignoreKeys: IGNORED_KEYS,
      forcesReplacement: (path) => forcesReplacement(r.type, path),
    });
    if (attributes.length === 0) {
      unchanged++;
      continue;
    }
    // A synth diff cannot ask the provider; a force-new attribute makes it a likely replacement.
    const action = attributes.some((x) => x.forcesReplacement) ? 'replace' : 'update';
    changes.push({ ...change(a, action, b.config, a.config, attributes), ...(action === 'replace' ? { reason: 'a changed attribute usually forces replacement (estimate from the synth diff)' } : {}) });
  }
  const outputs = diffOutputs(base?.json.output ?? {}, head?.json.output ?? {});
  const status = !base ? 'added' : !head ? 'removed' : changes.length + outputs.length > 0 ? 'changed' : 'unchanged';
  return { stack, source: 'synth', status, changes, outputs, unchanged, notes: [] };
}

function change(r: TerraformResource, action: ResourceChange['action'], before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined, attributes: ResourceChange['attributes']): ResourceChange {
  return { stack: r.stack, address: r.address, type: r.type, path: r.path, action, before, after, attributes };
}

type Outputs = Record<string, { value: unknown; sensitive?: boolean }>;

function diffOutputs(base: Outputs, head: Outputs): OutputChange[] {
  const out: OutputChange[] = [];
  for (const name of [...new Set([...Object.keys(head), ...Object.keys(base)])].sort()) {
    const b = base[name];
    const h = head[name];
    const sensitive = Boolean(b?.sensitive || h?.sensitive);
    const show = (o: Outputs[string] | undefined) => (o === undefined ? undefined : sensitive ? MASK : displayValue(o.value));
    if (!b) out.push({ name, action: 'create', after: show(h), sensitive });
    else if (!h) out.push({ name, action: 'delete', before: show(b), sensitive });
    else if (JSON.stringify(b.value) !== JSON.stringify(h.value) || Boolean(b.sensitive) !== Boolean(h.sensitive)) {
      out.push({ name, action: 'update', before: show(b), after: show(h), sensitive });
    }
  }
  return out;
}
