/**
 * Every identity in the synthesized stacks with every policy that applies to it, and every resource policy, read
 * from the Terraform JSON alone (the same files terraform plans). Attachments are followed across stacks by name
 * (the gpu stack attaches to a user the iam stack creates), so an attachment to an identity no stack creates is
 * reported as a problem, not skipped.
 */
import { resourcesOf, type SynthesizedStack, type TerraformResource } from '../shared/terraform-json';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies';
import { asList, type PolicyDocument, type PolicyDocumentStatement } from './policy-document';
import { interpolateString, referencedAddress, stackScope, type StackScope } from './references';

export interface AttachedPolicy {
  /** `ziggie-vps` (managed), `ziggie-comfyui-instance/comfyui-minimal` (inline), `AmazonSSMManagedInstanceCore`. */
  readonly name: string;
  readonly document: PolicyDocument;
  /** Where it comes from: `iam/aws_iam_policy.vps-policy`, or the AWS-managed ARN. */
  readonly source: string;
}

export interface Identity {
  readonly name: string;
  /** `policy`: a managed policy no stack attaches (ziggie-agent: the operator attaches it to their own identity). */
  readonly kind: 'user' | 'role' | 'policy';
  /** The principal ARN the simulation uses. */
  readonly arn: string;
  readonly stack: string;
  readonly address: string;
  readonly policies: AttachedPolicy[];
  /** A role's trust policy. */
  readonly trust?: PolicyDocument;
  readonly instanceProfiles: string[];
}

export interface ResourcePolicy {
  readonly name: string;
  readonly source: string;
  /** The ARNs (with IAM wildcards) the policy governs. */
  readonly resources: string[];
  readonly document: PolicyDocument;
}

export interface ResolvedIam {
  readonly accountId: string;
  readonly identities: Identity[];
  readonly resourcePolicies: ResourcePolicy[];
  /** Attachments to identities or policies that no stack creates, and anything else the resolver refused. */
  readonly problems: string[];
  /** The ARN the config implies for every resource that has one (instances get a stable placeholder id). */
  readonly arns: ReadonlyArray<{ readonly stack: string; readonly type: string; readonly name: string; readonly arn: string }>;
}

interface Located { readonly scope: StackScope; readonly resource: TerraformResource }

const POLICY_ATTRIBUTES = new Set(['policy', 'assume_role_policy', 'inline_policy', 'managed_policy_arns', 'policy_arn']);
const HANDLED = new Set([
  'aws_iam_user', 'aws_iam_role', 'aws_iam_policy', 'aws_iam_user_policy_attachment', 'aws_iam_role_policy_attachment',
  'aws_iam_role_policy', 'aws_iam_user_policy', 'aws_iam_instance_profile', 'aws_s3_bucket_policy', 'aws_sns_topic_policy',
  'aws_sqs_queue_policy', 'aws_lambda_permission', 'aws_secretsmanager_secret_policy', 'aws_iam_openid_connect_provider',
]);

export function resolveIam(stacks: readonly SynthesizedStack[]): ResolvedIam {
  const problems: string[] = [];
  const all: Located[] = stacks.flatMap((stack) => {
    const scope = stackScope(stack);
    return resourcesOf(stack).map((resource) => ({ scope, resource }));
  });
  const accounts = [...new Set(all.map((l) => l.scope.accountId))];
  if (accounts.length > 1) throw new Error(`the stacks name more than one account: ${accounts.join(', ')}`);
  const accountId = accounts[0] ?? '000000000000';
  const of = (type: string) => all.filter((l) => l.resource.type === type);
  const where = (l: Located) => `${l.scope.stack.name}/${l.resource.address}`;
  const str = (l: Located, key: string) => interpolateString(l.scope, l.resource.config[key], `${where(l)}.${key}`);

  for (const l of all) {
    const keys = Object.keys(l.resource.config).filter((k) => POLICY_ATTRIBUTES.has(k));
    if (keys.length > 0 && !HANDLED.has(l.resource.type)) {
      problems.push(`${where(l)}: ${l.resource.type} carries ${keys.join(', ')} but the resolver does not read that type`);
    }
  }

  // Managed policies by ARN (what attachments name).
  const managed = new Map<string, { located: Located; policy: AttachedPolicy }>();
  for (const l of of('aws_iam_policy')) {
    const arn = interpolateString(l.scope, `\${${l.resource.address}.arn}`, where(l));
    managed.set(arn, { located: l, policy: { name: str(l, 'name'), document: policyDocument(l, 'policy'), source: where(l) } });
  }
  const attachedArns = new Set<string>();
  const policyByArn = (arn: string, from: string): AttachedPolicy | undefined => {
    attachedArns.add(arn);
    const mine = managed.get(arn)?.policy;
    if (mine) return mine;
    const aws = AWS_MANAGED_POLICIES[arn];
    if (aws) return { name: arn.split('/').pop()!, document: aws.document, source: `${arn} (${aws.version})` };
    problems.push(`${from}: attaches ${arn}, which no stack creates and iam/aws-managed-policies.ts does not know`);
    return undefined;
  };

  const identities = new Map<string, Identity & { policies: AttachedPolicy[]; instanceProfiles: string[] }>();
  const key = (kind: 'user' | 'role', name: string) => `${kind}:${name}`;
  for (const l of of('aws_iam_user')) {
    const name = str(l, 'name');
    identities.set(key('user', name), {
      name, kind: 'user', arn: interpolateString(l.scope, `\${${l.resource.address}.arn}`, where(l)),
      stack: l.scope.stack.name, address: l.resource.address, policies: [], instanceProfiles: [],
    });
  }
  for (const l of of('aws_iam_role')) {
    const name = str(l, 'name');
    const role = {
      name, kind: 'role' as const, arn: interpolateString(l.scope, `\${${l.resource.address}.arn}`, where(l)),
      stack: l.scope.stack.name, address: l.resource.address, policies: [] as AttachedPolicy[], instanceProfiles: [] as string[],
      trust: policyDocument(l, 'assume_role_policy'),
    };
    for (const arn of asList(l.resource.config.managed_policy_arns as string[] | undefined)) {
      const p = policyByArn(interpolateString(l.scope, arn, where(l)), where(l));
      if (p) role.policies.push(p);
    }
    for (const inline of asList(l.resource.config.inline_policy as Array<{ name: string; policy: string }> | undefined)) {
      role.policies.push({ name: `${name}/${inline.name}`, document: parseDocument(l, inline.policy, 'inline_policy'), source: where(l) });
    }
    identities.set(key('role', name), role);
  }
  const identityFor = (l: Located, kind: 'user' | 'role', attribute: string) => {
    const name = str(l, attribute);
    const found = identities.get(key(kind, name));
    if (!found) problems.push(`${where(l)}: attaches to ${kind} "${name}", which no stack creates`);
    return found;
  };

  for (const [type, kind] of [['aws_iam_user_policy_attachment', 'user'], ['aws_iam_role_policy_attachment', 'role']] as const) {
    for (const l of of(type)) {
      const policy = policyByArn(str(l, 'policy_arn'), where(l));
      const identity = identityFor(l, kind, kind);
      if (policy && identity) identity.policies.push(policy);
    }
  }
  for (const [type, kind] of [['aws_iam_user_policy', 'user'], ['aws_iam_role_policy', 'role']] as const) {
    for (const l of of(type)) {
      const identity = identityFor(l, kind, kind);
      if (identity) identity.policies.push({ name: `${identity.name}/${str(l, 'name')}`, document: policyDocument(l, 'policy'), source: where(l) });
    }
  }
  for (const l of of('aws_iam_instance_profile')) identityFor(l, 'role', 'role')?.instanceProfiles.push(str(l, 'name'));

  // A managed policy nobody in the stacks holds is its own identity: whoever it is attached to later.
  for (const [arn, { located, policy }] of managed) {
    if (attachedArns.has(arn)) continue;
    identities.set(`policy:${policy.name}`, {
      name: policy.name, kind: 'policy', arn: `arn:aws:iam::${accountId}:user/holder-of-${policy.name}`,
      stack: located.scope.stack.name, address: located.resource.address, policies: [policy], instanceProfiles: [],
    });
  }

  const arns = all.flatMap((l) => {
    try {
      return [{ stack: l.scope.stack.name, type: l.resource.type, name: l.resource.name, arn: interpolateString(l.scope, `\${${l.resource.address}.arn}`, where(l)) }];
    } catch {
      return []; // a type whose ARN nothing here needs
    }
  });
  return { accountId, identities: [...identities.values()], resourcePolicies: resourcePolicies(all, where, str), problems, arns };
}

function resourcePolicies(all: Located[], where: (l: Located) => string, str: (l: Located, key: string) => string): ResourcePolicy[] {
  const out: ResourcePolicy[] = [];
  for (const l of all) {
    const { type } = l.resource;
    if (type === 'aws_s3_bucket_policy') {
      const arn = `arn:aws:s3:::${str(l, 'bucket')}`;
      out.push({ name: `bucket ${str(l, 'bucket')}`, source: where(l), resources: [arn, `${arn}/*`], document: policyDocument(l, 'policy') });
    } else if (type === 'aws_sns_topic_policy') {
      out.push({ name: `topic ${str(l, 'arn').split(':').pop()}`, source: where(l), resources: [str(l, 'arn')], document: policyDocument(l, 'policy') });
    } else if (type === 'aws_sqs_queue_policy') {
      const ref = referencedAddress(l.resource.config.queue_url);
      const arn = ref ? interpolateString(l.scope, `\${${ref.type}.${ref.name}.arn}`, where(l)) : queueArnFromUrl(str(l, 'queue_url'));
      out.push({ name: `queue ${arn.split(':').pop()}`, source: where(l), resources: [arn], document: policyDocument(l, 'policy') });
    } else if (type === 'aws_secretsmanager_secret_policy') {
      const arn = str(l, 'secret_arn');
      out.push({ name: `secret ${arn.split(':').pop()}`, source: where(l), resources: [arn], document: policyDocument(l, 'policy') });
    }
  }
  // Lambda permissions are statements of the function's resource policy, one resource per function.
  const byFunction = new Map<string, ResourcePolicy>();
  for (const l of all.filter((x) => x.resource.type === 'aws_lambda_permission')) {
    const fn = str(l, 'function_name');
    const arn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${l.scope.region}:${l.scope.accountId}:function:${fn}`;
    const policy = byFunction.get(arn) ?? { name: `function ${arn.split(':').pop()}`, source: where(l), resources: [arn], document: { Version: '2012-10-17', Statement: [] } };
    policy.document.Statement.push(lambdaPermissionStatement(l, arn, str));
    byFunction.set(arn, policy);
  }
  return [...out, ...byFunction.values()];
}

function lambdaPermissionStatement(l: Located, functionArn: string, str: (l: Located, key: string) => string): PolicyDocumentStatement {
  const c = l.resource.config;
  const principal = str(l, 'principal');
  const condition: NonNullable<PolicyDocumentStatement['Condition']> = {};
  if (c.source_arn) condition.ArnLike = { 'AWS:SourceArn': str(l, 'source_arn') };
  if (c.source_account) condition.StringEquals = { 'AWS:SourceAccount': str(l, 'source_account') };
  if (c.function_url_auth_type) condition.StringEquals = { ...condition.StringEquals, 'lambda:FunctionUrlAuthType': str(l, 'function_url_auth_type') };
  return {
    Sid: c.statement_id ? str(l, 'statement_id') : undefined,
    Effect: 'Allow',
    Principal: principal === '*' ? '*' : principal.includes('.amazonaws.com') ? { Service: principal } : { AWS: principal },
    Action: str(l, 'action'),
    Resource: functionArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

function queueArnFromUrl(url: string): string {
  const m = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an SQS queue URL: ${url}`);
  return `arn:aws:sqs:${m[1]}:${m[2]}:${m[3]}`;
}

function policyDocument(l: Located, attribute: string): PolicyDocument {
  return parseDocument(l, l.resource.config[attribute], attribute);
}

/**
 * A policy attribute: literal JSON (shared/iam-policy.ts writes them so) with references resolved, or a reference to
 * an aws_iam_policy_document data source, converted from its statement blocks.
 */
function parseDocument(l: Located, value: unknown, attribute: string): PolicyDocument {
  const at = `${l.scope.stack.name}/${l.resource.address}.${attribute}`;
  const dataRef = typeof value === 'string' ? /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(value) : null;
  if (dataRef) {
    const data = l.scope.stack.json.data?.aws_iam_policy_document?.[dataRef[1]];
    if (!data) throw new Error(`${at}: names data.aws_iam_policy_document.${dataRef[1]}, which the stack does not define`);
    return fromPolicyDocumentData(l.scope, data, at);
  }
  const text = interpolateString(l.scope, value, at);
  try {
    const doc = JSON.parse(text) as PolicyDocument;
    return { ...doc, Statement: asList(doc.Statement) };
  } catch {
    throw new Error(`${at}: not a literal JSON policy document (${text.slice(0, 60)}…)`);
  }
}

type DataStatement = {
  sid?: string; effect?: 'Allow' | 'Deny'; actions?: string[]; not_actions?: string[]; resources?: string[]; not_resources?: string[];
  principals?: Array<{ type: string; identifiers: string[] }>; not_principals?: Array<{ type: string; identifiers: string[] }>;
  condition?: Array<{ test: string; variable: string; values: string[] }>;
};

/** An aws_iam_policy_document data source's blocks as the JSON document Terraform renders from them. */
export function fromPolicyDocumentData(scope: StackScope, data: Record<string, unknown>, at: string): PolicyDocument {
  const s = (v: string) => interpolateString(scope, v, at);
  const principals = (blocks?: DataStatement['principals']) => {
    if (!blocks) return undefined;
    if (blocks.some((b) => b.type === '*')) return '*' as const;
    const out: Record<string, string[]> = {};
    for (const b of blocks) out[b.type] = [...(out[b.type] ?? []), ...b.identifiers.map(s)];
    return out;
  };
  const statements = asList(data.statement as DataStatement | DataStatement[] | undefined).map((st): PolicyDocumentStatement => {
    const condition: NonNullable<PolicyDocumentStatement['Condition']> = {};
    for (const c of st.condition ?? []) condition[c.test] = { ...condition[c.test], [c.variable]: c.values.map(s) };
    const p = principals(st.principals);
    const np = principals(st.not_principals);
    return {
      ...(st.sid ? { Sid: st.sid } : {}),
      Effect: st.effect ?? 'Allow',
      ...(p ? { Principal: p } : {}),
      ...(np && np !== '*' ? { NotPrincipal: np } : {}),
      ...(st.actions ? { Action: st.actions } : {}),
      ...(st.not_actions ? { NotAction: st.not_actions } : {}),
      ...(st.resources ? { Resource: st.resources.map(s) } : {}),
      ...(st.not_resources ? { NotResource: st.not_resources.map(s) } : {}),
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    };
  });
  return { Version: '2012-10-17', Statement: statements };
}
