import { blocks } from '../cost/inventory';
import { jsonDocument } from './attributes';
import { disruption, STATEFUL_TYPES } from './replacement';
import type { ResourceChange, RiskFlag, Severity, StackChanges } from './types';

/**
 * Risky changes a reviewer must see, from either a synth diff or a real plan: deletions and replacements,
 * disruptive updates, IAM widening (new actions, resources, wildcards, public principals, dropped conditions or
 * denies), security groups opening (new ingress CIDRs, above all 0.0.0.0/0), and S3 public-access changes.
 */
export function findRisks(stacks: readonly StackChanges[]): RiskFlag[] {
  const flags: RiskFlag[] = [];
  for (const stack of stacks) {
    for (const change of stack.changes) flags.push(...risksOf(change, stack.source));
  }
  const order: Record<Severity, number> = { high: 0, medium: 1, low: 2 };
  return flags.sort((a, b) => order[a.severity] - order[b.severity] || a.stack.localeCompare(b.stack) || a.address.localeCompare(b.address));
}

export function risksOf(c: ResourceChange, source: 'synth' | 'plan'): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const flag = (severity: Severity, kind: RiskFlag['kind'], message: string) =>
    flags.push({ severity, kind, stack: c.stack, address: c.address, ...(c.path ? { path: c.path } : {}), message, source });
  const stateful = STATEFUL_TYPES.has(c.type);

  if (c.action === 'delete') {
    flag(stateful ? 'high' : 'medium', 'deletion', `${c.type} is destroyed${stateful ? ' (holds data or history)' : ''}${c.reason ? `: ${c.reason}` : ''}`);
  }
  if (c.action === 'replace') {
    const why = c.replacePaths?.length ? c.replacePaths.join(', ') : c.attributes.filter((a) => a.forcesReplacement).map((a) => a.path).join(', ');
    flag(stateful ? 'high' : 'medium', 'replacement', `${c.type} is ${source === 'plan' ? '' : 'likely '}replaced (destroyed and re-created)${why ? ` because of ${why}` : ''}${stateful ? ': holds data or history' : ''}`);
  }
  if (c.action === 'update') {
    for (const a of c.attributes) {
      const what = disruption(c.type, a.path);
      if (what) flag('medium', 'replacement', `${a.path} changes (${a.before ?? '∅'} → ${a.after ?? '∅'}): ${what}`);
    }
  }
  if (c.action === 'delete' || c.action === 'read' || c.action === 'forget') return flags;

  const before = c.action === 'create' ? undefined : c.before;
  const after = c.after;
  flags.push(...iamWidening(c, before, after, source));
  flags.push(...securityGroupOpening(c, before, after, source));
  flags.push(...publicAccess(c, before, after, source));
  return flags;
}

// ---- IAM ------------------------------------------------------------------------------------------------

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: unknown;
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Every policy document in a resource body (policy, assume_role_policy, inline_policy[].policy, …). */
export function policyDocuments(body: Record<string, unknown> | undefined): Map<string, Statement[]> {
  const docs = new Map<string, Statement[]>();
  const walk = (value: unknown, path: string) => {
    const doc = jsonDocument(value) as { Statement?: unknown } | undefined;
    if (doc && typeof doc === 'object' && 'Statement' in doc) {
      const st = doc.Statement;
      docs.set(path, (Array.isArray(st) ? st : [st]).filter((s): s is Statement => typeof s === 'object' && s !== null));
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) if (k !== '//') walk(v, path ? `${path}.${k}` : k);
    }
  };
  walk(body ?? {}, '');
  return docs;
}

function principals(p: unknown): string[] {
  if (p === undefined) return [];
  if (typeof p === 'string') return [p];
  if (typeof p === 'object' && p !== null) return Object.entries(p).flatMap(([k, v]) => list(v).map((x) => `${k}:${x}`));
  return [];
}

function isPublicPrincipal(p: string): boolean {
  return p === '*' || p === 'AWS:*';
}

interface Grant {
  readonly text: string;
  readonly wildcard: boolean;
  readonly public: boolean;
}

const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get|BatchGet|Head)[A-Za-z0-9]*$/;
const isWild = (v: string) => v === '*' || /^[a-z0-9-]+:\*$/i.test(v);

/** One per (principal, action, resource) a statement grants; conditions kept, so dropping one shows as new. */
function grants(statements: Statement[], effect: 'Allow' | 'Deny'): Map<string, Grant> {
  const out = new Map<string, Grant>();
  for (const s of statements) {
    if ((s.Effect ?? 'Allow') !== effect) continue;
    const notAction = s.NotAction !== undefined;
    const notResource = s.NotResource !== undefined;
    const actions = notAction ? list(s.NotAction) : list(s.Action);
    const resources = notResource ? list(s.NotResource) : list(s.Resource);
    const who = principals(s.Principal);
    const cond = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : '';
    for (const p of who.length ? who : ['']) {
      for (const a of actions) {
        for (const r of resources.length ? resources : ['']) {
          const text = `${p ? `${p} → ` : ''}${notAction ? 'NOT ' : ''}${a}${r ? ` on ${notResource ? 'NOT ' : ''}${r}` : ''}${cond}`;
          // `Resource: "*"` is how AWS wants read-only calls (Describe*, List*) and conditioned ones: not widening by itself.
          const anyResource = r === '*' && !READ_ONLY.test(a) && !s.Condition;
          out.set(text, { text, wildcard: notAction || notResource || isWild(a) || anyResource, public: isPublicPrincipal(p) });
        }
      }
    }
  }
  return out;
}

function iamWidening(c: ResourceChange, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined, source: 'synth' | 'plan'): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const b = policyDocuments(before);
  const a = policyDocuments(after);
  for (const [docPath, statements] of a) {
    const old = b.get(docPath) ?? [];
    const oldAllows = grants(old, 'Allow');
    const newDenies = grants(statements, 'Deny');
    const added = [...grants(statements, 'Allow').values()].filter((g) => !oldAllows.has(g.text));
    const droppedDenies = [...grants(old, 'Deny').keys()].filter((g) => !newDenies.has(g));
    if (added.length === 0 && droppedDenies.length === 0) continue;
    const publicGrants = added.filter((g) => g.public).map((g) => g.text);
    const wildcard = added.filter((g) => g.wildcard && !g.public).map((g) => g.text);
    const plain = added.filter((g) => !g.wildcard && !g.public).map((g) => g.text);
    // A brand-new policy's ordinary grants are worth a look (low); widening an existing one is medium.
    const severity: Severity = wildcard.length || publicGrants.length || droppedDenies.length ? 'high' : c.action === 'create' ? 'low' : 'medium';
    const parts: string[] = [];
    if (publicGrants.length) parts.push(`grants to everyone (Principal "*"): ${sample(publicGrants)}`);
    if (wildcard.length) parts.push(`wildcard grants: ${sample(wildcard)}`);
    if (plain.length) parts.push(`${c.action === 'create' ? '' : 'new '}grants: ${sample(plain)}`);
    if (droppedDenies.length) parts.push(`Deny removed: ${sample(droppedDenies)}`);
    flags.push({ severity, kind: 'iam-widening', stack: c.stack, address: c.address, ...(c.path ? { path: c.path } : {}), source,
      message: `${docPath}${c.action === 'create' ? ' (new policy)' : ''}: ${parts.join('; ')}` });
  }
  // Managed policies attached by ARN.
  const arn = after?.policy_arn;
  if (typeof arn === 'string' && arn !== before?.policy_arn) {
    const broad = /(AdministratorAccess|PowerUserAccess|IAMFullAccess|FullAccess)$/.test(arn);
    flags.push({ severity: broad ? 'high' : 'medium', kind: 'iam-widening', stack: c.stack, address: c.address, ...(c.path ? { path: c.path } : {}), source,
      message: `attaches managed policy ${arn}${broad ? ' (broad)' : ''}` });
  }
  return flags;
}

function sample(items: string[], n = 4): string {
  const shown = items.slice(0, n).map((i) => `\`${i.length > 140 ? `${i.slice(0, 137)}…` : i}\``).join(', ');
  return items.length > n ? `${shown} and ${items.length - n} more` : shown;
}

// ---- Security groups --------------------------------------------------------------------------------------

const WORLD = new Set(['0.0.0.0/0', '::/0']);

/** `tcp 22-22 from 0.0.0.0/0` for every ingress CIDR a resource allows. */
function ingressRules(type: string, body: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  if (!body) return out;
  const add = (proto: unknown, from: unknown, to: unknown, cidrs: string[]) => {
    const ports = String(proto) === '-1' || String(proto) === 'all' ? 'all ports' : `${String(proto)} ${String(from)}${from === to ? '' : `-${String(to)}`}`;
    for (const cidr of cidrs) out.add(`${ports} from ${cidr}`);
  };
  if (type === 'aws_security_group') {
    for (const r of blocks(body.ingress)) add(r.protocol, r.from_port, r.to_port, [...list(r.cidr_blocks), ...list(r.ipv6_cidr_blocks)]);
  } else if (type === 'aws_security_group_rule' && body.type === 'ingress') {
    add(body.protocol, body.from_port, body.to_port, [...list(body.cidr_blocks), ...list(body.ipv6_cidr_blocks)]);
  } else if (type === 'aws_vpc_security_group_ingress_rule') {
    add(body.ip_protocol, body.from_port, body.to_port, [...list(body.cidr_ipv4), ...list(body.cidr_ipv6)]);
  }
  return out;
}

function securityGroupOpening(c: ResourceChange, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined, source: 'synth' | 'plan'): RiskFlag[] {
  const old = ingressRules(c.type, before);
  const opened = [...ingressRules(c.type, after)].filter((r) => !old.has(r));
  if (opened.length === 0) return [];
  const world = opened.filter((r) => WORLD.has(r.split(' from ')[1]));
  return [{ severity: world.length ? 'high' : 'medium', kind: 'sg-opening', stack: c.stack, address: c.address, ...(c.path ? { path: c.path } : {}), source,
    message: `ingress opened: ${sample(opened)}${world.length ? ' — open to the whole internet' : ''}` }];
}

// ---- S3 public access ---------------------------------------------------------------------------------------

const PAB_FLAGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
const PUBLIC_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

function publicAccess(c: ResourceChange, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined, source: 'synth' | 'plan'): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const flag = (severity: Severity, kind: RiskFlag['kind'], message: string) =>
    flags.push({ severity, kind, stack: c.stack, address: c.address, ...(c.path ? { path: c.path } : {}), message, source });
  const truthy = (v: unknown) => v === true || v === 'true';
  if (c.type === 'aws_s3_bucket_public_access_block' || c.type === 'aws_s3_account_public_access_block') {
    const off = PAB_FLAGS.filter((f) => !truthy(after?.[f]) && (c.action === 'create' || truthy(before?.[f])));
    if (off.length) flag('high', 'public-access', `public access block ${c.action === 'create' ? 'created with' : 'turns off'} ${off.join(', ')}${c.action === 'create' ? ' = false' : ' (true → false)'}`);
  }
  if (c.type === 'aws_s3_bucket_acl' || c.type === 'aws_s3_bucket') {
    const acl = after?.acl;
    if (typeof acl === 'string' && PUBLIC_ACLS.has(acl) && acl !== before?.acl) flag('high', 'public-access', `bucket ACL ${acl}`);
  }
  if (c.type === 'aws_s3_bucket_ownership_controls') {
    const owner = (v: Record<string, unknown> | undefined) => blocks(v?.rule)[0]?.object_ownership;
    if (owner(after) !== 'BucketOwnerEnforced' && (c.action === 'create' || owner(before) === 'BucketOwnerEnforced')) {
      flag('medium', 'public-access', `object ownership ${String(owner(after))}: ACLs are enabled again`);
    }
  }
  if (c.type === 'aws_s3_bucket_policy' && c.action !== 'create') {
    if (c.attributes.some((a) => a.path === 'policy')) flag('medium', 'bucket-policy', 'bucket policy changes (see the policy diff)');
  }
  if (c.type === 'aws_instance' || c.type === 'aws_launch_template') {
    const imds = (v: Record<string, unknown> | undefined) => blocks(v?.metadata_options)[0]?.http_tokens;
    if (imds(before) === 'required' && imds(after) !== 'required') flag('high', 'exposure', `IMDSv2 no longer required (http_tokens ${String(imds(after) ?? 'unset')})`);
    const pub = (v: Record<string, unknown> | undefined) => v?.associate_public_ip_address ?? blocks(v?.network_interfaces)[0]?.associate_public_ip_address;
    if (truthy(pub(after)) && before && !truthy(pub(before))) flag('medium', 'exposure', 'gets a public IPv4 address');
  }
  return flags;
}
