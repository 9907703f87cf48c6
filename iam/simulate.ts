/**
 * One request through @cloud-copilot/iam-simulate: the principal's identity policies from the resolver, the
 * resource's policy (a bucket policy, a role's trust policy, a function's permissions), and the verdict with the
 * statement that decided it.
 */
import {
  getDenialReasons, getGrantReasons, runSimulation, runUnsafeSimulation, type RequestAnalysis, type Simulation,
} from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateTrustPolicy } from '@cloud-copilot/iam-policy';
import { type PolicyDocument, wildcardMatch } from './policy-document';
import type { Identity, ResolvedIam } from './resolve';

export interface SimRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** Who asks: an identity from the stacks, or a principal outside them (a service, an OIDC provider, a stranger). */
export type Asker = { readonly identity: Identity } | { readonly principal: string; readonly label: string };

export type Verdict = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Decision {
  readonly verdict: Verdict;
  /** `ziggie-vps: WriteBackups`, `bucket ziggie-cloud-assets: DenyInsecureTransport`, `no statement allows it`. */
  readonly deciding: string;
}

/**
 * Simulate one request. Requests over TLS unless the context says otherwise (every bucket denies plain HTTP).
 * The validated engine drops condition keys its data does not list for an action — GitHub's OIDC claims
 * (`token.actions.githubusercontent.com:sub`) for sts:AssumeRoleWithWebIdentity among them — so such a request
 * runs through the library's unvalidated engine, which evaluates the same policies with the keys kept.
 */
export async function simulate(iam: ResolvedIam, asker: Asker, request: SimRequest): Promise<Decision> {
  const identityPolicies = 'identity' in asker ? asker.identity.policies.map((p) => ({ name: p.name, policy: p.document })) : [];
  const resource = resourcePolicyFor(iam, request);
  const simulation: Simulation = {
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resource ? { resourcePolicy: resource.document } : {}),
    request: {
      principal: 'identity' in asker ? asker.identity.arn : asker.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: resourceAccount(request.resource, iam.accountId) },
      // What AWS adds to every signed request itself.
      contextVariables: {
        'aws:SecureTransport': 'true',
        ...('identity' in asker ? { 'aws:PrincipalArn': asker.identity.arn, 'aws:PrincipalAccount': iam.accountId } : {}),
        ...copy(request.context),
      },
    },
  };
  const result = await runSimulation(simulation, {});
  // AWS public parameters (arn:aws:ssm:<region>::parameter/aws/service/…) have no account; the library's ARN
  // patterns need one, so such a request can only run through the unvalidated engine.
  if (result.resultType === 'error' && result.errors.message === 'no.resource.types' && /^arn:aws:[a-z0-9-]+:[a-z0-9-]*::/.test(request.resource)) {
    return coreEngine(simulation, resource);
  }
  if (result.resultType === 'error') {
    throw new Error(`cannot simulate ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  }
  const ignored = result.resultType === 'single' ? result.result.ignoredContextKeys ?? [] : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.some(isOidcClaim)) return coreEngine(simulation, resource);
  const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
  return { verdict: result.overallResult, deciding: analysis ? deciding(analysis, resource?.name) : 'no statement allows it' };
}

function deciding(analysis: RequestAnalysis, resourceName = 'resource policy'): string {
  const sid = (id: string | undefined, index: number) => id ?? `statement ${index}`;
  if (analysis.result === 'Allowed') {
    return getGrantReasons(analysis).map((g) => (g.policyType === 'resource'
      ? `${resourceName}: ${sid(g.statementId, g.statementIndex)}`
      : `${g.policyIdentifier}: ${sid(g.statementId, g.statementIndex)}`)).join(' + ');
  }
  const explicit = getDenialReasons(analysis).filter((d) => d.denialType === 'Explicit');
  if (explicit.length > 0) {
    return explicit.map((d) => `${d.policyType === 'resource' ? resourceName : (d as { policyIdentifier?: string }).policyIdentifier ?? d.policyType}: `
      + `${sid((d as { statementId?: string }).statementId, (d as { statementIndex: number }).statementIndex)} (Deny)`).join(' + ');
  }
  return 'no statement allows it';
}

/**
 * The unvalidated engine gives a verdict only; the deciding statement is the one that alone gives the same Allow.
 * The trust policy goes in validated (and named) by @cloud-copilot/iam-policy, which the engine accepts as is.
 */
function coreEngine(simulation: Simulation, resource: { name: string; document: PolicyDocument } | undefined): Decision {
  const run = (sim: Simulation, document: PolicyDocument | undefined) => {
    if (!document) return runUnsafeSimulation({ ...sim, resourcePolicy: undefined }, {});
    const validated = createValidatedPolicy(document, validateTrustPolicy, { name: resource!.name });
    if (validated.errors.length > 0) throw new Error(`${resource!.name}: ${JSON.stringify(validated.errors)}`);
    return runUnsafeSimulation({ ...sim, resourcePolicy: validated }, {});
  };
  const verdict = run(simulation, resource?.document);
  if (verdict !== 'Allowed') return { verdict, deciding: 'no statement allows it' };
  if (resource) {
    const statements = resource.document.Statement;
    const alone = statements.findIndex((st) => run(simulation, { ...resource.document, Statement: [st] }) === 'Allowed');
    if (alone >= 0) return { verdict, deciding: `${resource.name}: ${statements[alone].Sid ?? `statement ${alone + 1}`}` };
  }
  for (const p of simulation.identityPolicies) {
    const statements = (p.policy as PolicyDocument).Statement;
    const alone = statements.findIndex((st) => run({ ...simulation, identityPolicies: [{ name: p.name, policy: { ...p.policy, Statement: [st] } }] }, resource?.document) === 'Allowed');
    if (alone >= 0) return { verdict, deciding: `${p.name}: ${statements[alone].Sid ?? `statement ${alone + 1}`}` };
  }
  return { verdict, deciding: 'several statements together' };
}

function isOidcClaim(key: string): boolean {
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+:[a-z_/]+$/i.test(key);
}

/** The resource policy that governs a request: a role's trust policy for sts:AssumeRole*, else by ARN. */
export function resourcePolicyFor(iam: ResolvedIam, request: SimRequest): { name: string; document: PolicyDocument } | undefined {
  if (request.action.toLowerCase().startsWith('sts:assumerole')) {
    const role = iam.identities.find((i) => i.kind === 'role' && i.arn === request.resource);
    return role?.trust ? { name: `trust of ${role.name}`, document: role.trust } : undefined;
  }
  const matching = iam.resourcePolicies.filter((p) => p.resources.some((r) => wildcardMatch(r, request.resource)));
  if (matching.length === 0) return undefined;
  return {
    name: matching.map((p) => p.name).join(' + '),
    document: { Version: '2012-10-17', Statement: matching.flatMap((p) => p.document.Statement) },
  };
}

function resourceAccount(arn: string, fallback: string): string {
  return /^arn:aws:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? fallback;
}

function copy(context: SimRequest['context']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(context ?? {})) out[k] = typeof v === 'string' ? v : [...v];
  return out;
}
