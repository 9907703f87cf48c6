/**
 * Helpers the rules share for reading synthesized Terraform JSON. Pure functions, no cdktf imports.
 */
import { parseJsonAttribute, type TerraformResource } from '../shared/terraform-json';
import type { RuleContext, RuleResult, Verdict } from './types';

export const verdict = (ok: boolean): Verdict => (ok ? 'compliant' : 'non-compliant');

/** A nested block as a list: cdktf writes single blocks as objects and repeatable ones as arrays. */
export function blocks(value: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(value)) return value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
  if (typeof value === 'object' && value !== null) return [value as Record<string, unknown>];
  return [];
}

export function asArray<T = unknown>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Terraform JSON may carry booleans as strings (e.g. a launch template's `encrypted = "true"`). */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/**
 * Does `value` (an attribute such as a companion's `bucket`) point at `target`: an interpolation of one of the
 * target's attributes (`${aws_s3_bucket.x.id}`), or the literal name the target was given in `nameAttribute`?
 */
export function refersTo(value: unknown, target: TerraformResource, nameAttribute?: string): boolean {
  if (typeof value !== 'string') return false;
  if (value.includes(`\${${target.address}.`)) return true;
  const literal = nameAttribute ? target.config[nameAttribute] : undefined;
  return typeof literal === 'string' && !literal.includes('${') && value === literal;
}

/** The resources of `type` in the stack whose `attribute` points at `target`. */
export function companions(context: RuleContext, type: string, target: TerraformResource, attribute: string,
  nameAttribute?: string): TerraformResource[] {
  return context.resources.filter((r) => r.type === type && refersTo(r.config[attribute], target, nameAttribute));
}

// ---------------------------------------------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------------------------------------------

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Action: string[];
  readonly NotAction: string[];
  readonly Resource: string[];
  readonly NotResource: string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export type PolicyKind = 'identity' | 'resource' | 'trust';

export interface PolicyDocumentRef {
  /** Which attribute of the resource holds it, e.g. `policy` or `inline_policy[0].policy`. */
  readonly attribute: string;
  readonly kind: PolicyKind;
  /** The raw attribute value (a JSON string, or an interpolation when written with a data source). */
  readonly raw: unknown;
  /** Parsed statements, or undefined when the value is not a literal JSON policy (cannot be reviewed). */
  readonly statements?: Statement[];
}

/** Where policy documents live in AWS resources, and what kind they are. */
const POLICY_ATTRIBUTES: Record<string, Array<[attribute: string, kind: PolicyKind]>> = {
  aws_iam_policy: [['policy', 'identity']],
  aws_iam_role_policy: [['policy', 'identity']],
  aws_iam_user_policy: [['policy', 'identity']],
  aws_iam_group_policy: [['policy', 'identity']],
  aws_iam_role: [['assume_role_policy', 'trust']],
  aws_s3_bucket_policy: [['policy', 'resource']],
  aws_s3_bucket: [['policy', 'resource']],
  aws_secretsmanager_secret: [['policy', 'resource']],
  aws_secretsmanager_secret_policy: [['policy', 'resource']],
  aws_sns_topic: [['policy', 'resource']],
  aws_sns_topic_policy: [['policy', 'resource']],
  aws_sqs_queue: [['policy', 'resource']],
  aws_sqs_queue_policy: [['policy', 'resource']],
  aws_kms_key: [['policy', 'resource']],
  aws_ecr_repository_policy: [['policy', 'resource']],
  aws_cloudwatch_log_resource_policy: [['policy_document', 'resource']],
  aws_vpc_endpoint: [['policy', 'resource']],
};

/** Every policy document the resource carries (an absent optional attribute yields nothing). */
export function policyDocumentsOf(resource: TerraformResource): PolicyDocumentRef[] {
  const refs: PolicyDocumentRef[] = [];
  for (const [attribute, kind] of POLICY_ATTRIBUTES[resource.type] ?? []) {
    const raw = resource.config[attribute];
    if (raw === undefined || raw === null || raw === '') continue;
    refs.push({ attribute, kind, raw, statements: statementsOf(raw) });
  }
  if (resource.type === 'aws_iam_role') {
    blocks(resource.config.inline_policy).forEach((block, i) => {
      if (block.policy !== undefined) {
        refs.push({ attribute: `inline_policy[${i}].policy`, kind: 'identity', raw: block.policy, statements: statementsOf(block.policy) });
      }
    });
  }
  return refs;
}

/** The statements of a literal JSON policy, normalised (Action, Resource… always arrays), or undefined. */
export function statementsOf(raw: unknown): Statement[] | undefined {
  const doc = parseJsonAttribute(raw) as { Statement?: unknown } | undefined;
  if (typeof doc !== 'object' || doc === null || doc.Statement === undefined) return undefined;
  return asArray(doc.Statement as Record<string, unknown> | Array<Record<string, unknown>>).map((s) => ({
    Sid: s.Sid as string | undefined,
    Effect: String(s.Effect ?? ''),
    Principal: s.Principal,
    NotPrincipal: s.NotPrincipal,
    Action: asArray(s.Action as string | string[]).map(String),
    NotAction: asArray(s.NotAction as string | string[]).map(String),
    Resource: asArray(s.Resource as string | string[]).map(String),
    NotResource: asArray(s.NotResource as string | string[]).map(String),
    Condition: s.Condition as Statement['Condition'],
  }));
}

/**
 * The Allow statements of every readable policy document of the resource, with the document's kind;
 * `not-applicable` when the resource carries no readable policy.
 */
export function allowStatements(resource: TerraformResource, kinds: PolicyKind[] = ['identity', 'resource', 'trust']):
  Array<{ statement: Statement; kind: PolicyKind }> | undefined {
  const docs = policyDocumentsOf(resource).filter((d) => kinds.includes(d.kind) && d.statements);
  if (docs.length === 0) return undefined;
  return docs.flatMap((d) => d.statements!.filter((s) => s.Effect === 'Allow').map((statement) => ({ statement, kind: d.kind })));
}

/** Case-insensitive IAM glob match (`*` any run, `?` one character), as IAM evaluates actions. */
export function iamGlob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'i');
  return re.test(value);
}

/** How a finding names a statement: `statement <Sid>`. */
export function sid(statement: Statement): string {
  return `statement ${statement.Sid ?? '(no Sid)'}`;
}

/** Condition keys are case-insensitive: the operator's keys, lower-cased. */
export function conditionKeys(statement: Statement): string[] {
  return Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey ?? {}).map((k) => k.toLowerCase()));
}

/** Principal "*" or { AWS: "*" }: anyone. */
export function isAnonymousPrincipal(principal: unknown): boolean {
  if (principal === '*') return true;
  if (typeof principal === 'object' && principal !== null) {
    return asArray((principal as Record<string, unknown>).AWS as string | string[]).includes('*');
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Security group rules
// ---------------------------------------------------------------------------------------------------------------

export interface IngressRule {
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrs: string[];
}

/** Ingress rules in any of the four forms the AWS provider accepts; undefined when the resource has none. */
export function ingressRulesOf(resource: TerraformResource): IngressRule[] | undefined {
  const c = resource.config;
  const num = (v: unknown) => (v === undefined || v === null ? undefined : Number(v));
  switch (resource.type) {
    case 'aws_security_group':
    case 'aws_default_security_group':
      return blocks(c.ingress).map((b) => ({
        protocol: String(b.protocol ?? ''),
        fromPort: num(b.from_port),
        toPort: num(b.to_port),
        cidrs: [...asArray(b.cidr_blocks as string[]), ...asArray(b.ipv6_cidr_blocks as string[])].map(String),
      }));
    case 'aws_security_group_rule':
      if (c.type !== 'ingress') return undefined;
      return [{
        protocol: String(c.protocol ?? ''),
        fromPort: num(c.from_port),
        toPort: num(c.to_port),
        cidrs: [...asArray(c.cidr_blocks as string[]), ...asArray(c.ipv6_cidr_blocks as string[])].map(String),
      }];
    case 'aws_vpc_security_group_ingress_rule':
      return [{
        protocol: String(c.ip_protocol ?? ''),
        fromPort: num(c.from_port),
        toPort: num(c.to_port),
        cidrs: [c.cidr_ipv4, c.cidr_ipv6].filter((v): v is string => typeof v === 'string'),
      }];
    default:
      return undefined;
  }
}

export function isAllProtocols(rule: IngressRule): boolean {
  return rule.protocol === '-1' || rule.protocol.toLowerCase() === 'all';
}

/** Does the rule admit `port` (TCP)? Protocol -1 admits every port. */
export function coversPort(rule: IngressRule, port: number): boolean {
  if (isAllProtocols(rule)) return true;
  if (!['tcp', '6'].includes(rule.protocol.toLowerCase())) return false;
  return (rule.fromPort ?? 0) <= port && port <= (rule.toPort ?? 65535);
}

export const WORLD_CIDRS = ['0.0.0.0/0', '::/0'];

/** The prefix length of a CIDR (`10.0.0.0/16` → 16), or undefined for an interpolation. */
export function prefixLength(cidr: string): number | undefined {
  const m = /\/(\d{1,3})$/.exec(cidr);
  return m && !cidr.includes('${') ? Number(m[1]) : undefined;
}

/** The aws provider block a resource uses (`provider = "aws.us_east_1"` picks an alias). */
export function providerOf(resource: TerraformResource, context: RuleContext): Record<string, unknown> | undefined {
  const [name, alias] = String(resource.config.provider ?? 'aws').split('.');
  const providers = context.stack.json.provider?.[name] ?? [];
  return providers.find((p) => (alias ? p.alias === alias : p.alias === undefined));
}

/** Does a budget notification block of `type` reach anyone (e-mail or SNS)? */
export function budgetNotifies(notification: Record<string, unknown>, type: 'ACTUAL' | 'FORECASTED'): boolean {
  return notification.notification_type === type
    && (asArray(notification.subscriber_email_addresses as string[]).length > 0
      || asArray(notification.subscriber_sns_topic_arns as string[]).length > 0);
}

/** A non-compliant verdict that says where. */
export function fail(detail: string): RuleResult {
  return { verdict: 'non-compliant', detail };
}

/** The first problem found, or compliant. */
export function firstProblem(problems: Array<string | undefined | false>): Verdict | RuleResult {
  const found = problems.filter((p): p is string => typeof p === 'string');
  return found.length === 0 ? 'compliant' : fail(found.join('; '));
}

/** A bucket's companion resources (`aws_s3_bucket_*` whose `bucket` names it by reference or literally). */
export function bucketCompanions(bucket: TerraformResource, context: RuleContext, type: string): TerraformResource[] {
  return companions(context, type, bucket, 'bucket', 'bucket');
}

/**
 * The launch template an aws_instance is launched from, when it is in the same stack: the instance inherits its
 * metadata options, block devices and user data unless it sets them itself.
 */
export function launchTemplateOf(instance: TerraformResource, context: RuleContext): TerraformResource | undefined {
  const ref = blocks(instance.config.launch_template)[0];
  if (!ref) return undefined;
  return context.resources.find((r) => r.type === 'aws_launch_template'
    && (refersTo(ref.id, r) || refersTo(ref.name, r, 'name')));
}
