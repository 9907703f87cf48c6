/**
 * The expectation table: who may do what, as requests with the verdict each must get. Hand-written rows say what
 * each identity is for; generated rows hold for every identity the resolver finds (nothing forbidden, every
 * statement of every VPS-held user pinned to the VPS address, every trust policy naming only its service), so an
 * identity added later is covered without a new row. docs/iam.md is rendered from the outcomes.
 */
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import type { IamNeeds } from '../shared/iam-needs';
import { asList, type PolicyDocumentStatement } from './policy-document';
import type { Identity, ResolvedIam } from './resolve';
import { type Decision, simulate, type SimRequest } from './simulate';

export type Expected = 'Allowed' | 'Denied';

export interface Expectation {
  /** The docs/iam.md section: an identity's name, or `resource policies`. */
  readonly section: string;
  /** An identity of the stacks by name, or a principal outside them. */
  readonly asker: { readonly identity: string } | { readonly principal: string; readonly label: string };
  readonly label: string;
  readonly request: SimRequest;
  /** `VPS` / `elsewhere` for requests whose source address matters. */
  readonly from?: string;
  readonly expect: Expected;
}

export interface Outcome {
  readonly row: Expectation;
  readonly decision?: Decision;
  readonly ok: boolean;
  /** Why a row could not be simulated (an identity the stacks do not create). */
  readonly problem?: string;
}

/** An address that is not the VPS's (TEST-NET-1), for the "from anywhere else" rows. */
export function elsewhereIp(config: Pick<ZiggieConfig, 'vps'>): string {
  return config.vps.publicIp === '192.0.2.66' ? '192.0.2.67' : '192.0.2.66';
}

const STRANGER_ACCOUNT = '999988887777';

export function expectations(config: ZiggieConfig, iam: ResolvedIam, needs: readonly IamNeeds[] = []): Expectation[] {
  return [
    ...purposeRows(config, iam),
    ...needsRows(config, iam, needs),
    ...outsideRows(config, iam, needs),
    ...forbiddenRows(config, iam),
    ...pinnedRows(config, iam),
    ...trustRows(iam),
  ];
}

export async function runExpectations(iam: ResolvedIam, rows: readonly Expectation[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const row of rows) {
    const identity = 'identity' in row.asker ? iam.identities.find((i) => i.name === (row.asker as { identity: string }).identity) : undefined;
    if ('identity' in row.asker && !identity) {
      out.push({ row, ok: false, problem: `no identity named ${row.asker.identity} in the synthesized stacks` });
      continue;
    }
    const decision = await simulate(iam, identity ? { identity } : (row.asker as { principal: string; label: string }), row.request);
    out.push({ row, decision, ok: (decision.verdict === 'Allowed') === (row.expect === 'Allowed') });
  }
  return out;
}

/** Every call a command declares, for the identity it names: each must be allowed (from the VPS for a VPS-held user). */
export function needsRows(config: ZiggieConfig, iam: ResolvedIam, needs: readonly IamNeeds[]): Expectation[] {
  return needs.flatMap((n) => {
    const from = fromVps(config, iam, n.identity);
    return n.calls.map((call) => ({
      section: n.identity,
      asker: { identity: n.identity },
      label: `\`${n.command}\`: ${call.why ?? call.action}`,
      request: { ...call, context: { ...call.context, ...from?.context } },
      ...(from ? { from: 'VPS' } : {}),
      expect: 'Allowed' as const,
    }));
  });
}

/** The label prefix of the requests just outside a command's calls. */
export const outsideLabel = (command: string): string => `\`${command}\` outside: `;

/**
 * For a declaration marked `exact`: each call asked just outside what it declares, each must be denied — another
 * project's resource (or another model / distribution / bucket prefix), a tag-scoped call on an untagged instance,
 * and a VPS-held user's call from another address.
 */
export function outsideRows(config: ZiggieConfig, iam: ResolvedIam, needs: readonly IamNeeds[]): Expectation[] {
  const rows: Expectation[] = [];
  for (const n of needs.filter((x) => x.exact)) {
    const vps = fromVps(config, iam, n.identity);
    const row = (label: string, request: SimRequest, from?: string): Expectation =>
      ({ section: n.identity, asker: { identity: n.identity }, label: outsideLabel(n.command) + label, request, ...(from ? { from } : {}), expect: 'Denied' });
    for (const call of n.calls) {
      const context = { ...call.context, ...vps?.context };
      const tags = Object.keys(call.context ?? {}).filter((k) => k.startsWith('aws:ResourceTag/'));
      if (tags.length > 0) {
        const untagged = Object.fromEntries(Object.entries(context).filter(([k]) => !tags.includes(k)));
        rows.push(row(`${call.action} on an untagged resource`, { action: call.action, resource: call.resource, context: untagged }, vps && 'VPS'));
      } else {
        for (const resource of neighbours(call.resource, config.project)) {
          rows.push(row(`${call.action} on ${resource}`, { action: call.action, resource, context }, vps && 'VPS'));
        }
      }
      if (vps) rows.push(row(`${call.action} from another address`, { ...call, context: { ...call.context, 'aws:SourceIp': elsewhereIp(config) } }, 'elsewhere'));
    }
  }
  return rows;
}

/** A VPS-held identity (an IAM user: its key lives on the VPS) asks from the VPS's address. */
function fromVps(config: ZiggieConfig, iam: ResolvedIam, identity: string): { context: Record<string, string> } | undefined {
  return iam.identities.find((i) => i.name === identity)?.kind === 'user' ? { context: { 'aws:SourceIp': config.vps.publicIp } } : undefined;
}

/**
 * Resources just outside a declared one: the same ARN in another project (`ziggie` → `other`), or with its last
 * path segment changed (a model, a distribution), and for an S3 object another key prefix of the same bucket.
 */
export function neighbours(resource: string, project: string): string[] {
  if (resource === '*') return [];
  const out = new Set<string>();
  if (resource.includes(project)) out.add(resource.split(project).join('other'));
  else if (resource.includes('/')) out.add(resource.replace(/[^/]+$/, 'not-declared'));
  const s3Object = /^arn:aws:s3:::([^/]+)\/./.exec(resource);
  if (s3Object) out.add(`arn:aws:s3:::${s3Object[1]}/not-declared/x`);
  out.delete(resource);
  return [...out];
}

/** What each identity is for, and the nearest things it must not do. */
function purposeRows(config: ZiggieConfig, iam: ResolvedIam): Expectation[] {
  const names = ziggieNames(config);
  const { region, accountId: acct } = config;
  const vps = { 'aws:SourceIp': config.vps.publicIp };
  const away = { 'aws:SourceIp': elsewhereIp(config) };
  const assets = `arn:aws:s3:::${config.storage.assetsBucket}`;
  const backups = `arn:aws:s3:::${config.storage.backupsBucket}`;
  const secret = (name: string) => `arn:aws:secretsmanager:${region}:${acct}:secret:${name}-AbCdEf`;
  const instance = (id = 'i-0aaaaaaaaaaaaaaaa') => `arn:aws:ec2:${region}:${acct}:instance/${id}`;
  const tagged = (project?: string): Record<string, string> => (project === undefined ? {} : { 'aws:ResourceTag/Project': project });
  const arnOf = (type: string, name?: string) => iam.arns.find((a) => a.type === type && (name === undefined || a.name === name))?.arn;
  const gpu = arnOf('aws_instance') ?? instance('i-0missinggpuinstance');
  const fn = iam.arns.find((a) => a.type === 'aws_lambda_function' && a.arn.endsWith(':function:ziggie-gpu-control'))?.arn
    ?? `arn:aws:lambda:${region}:${acct}:function:missing`;
  const row = (section: string, label: string, action: string, resource: string, expect: Expected, context: SimRequest['context'] = {}, from?: string): Expectation =>
    ({ section, asker: { identity: section }, label, request: { action, resource, context }, expect, ...(from ? { from } : {}) });
  const containerSecret = [...new Set(config.containers.flatMap((c) => Object.values(c.secrets)))].sort()[0];
  const rows: Expectation[] = [];

  const agent = names.agentPolicy;
  rows.push(
    row(agent, 'StartInstances on a Project=' + config.tags.Project + ' instance', 'ec2:StartInstances', instance(), 'Allowed', tagged(config.tags.Project)),
    row(agent, 'StartInstances on an untagged instance', 'ec2:StartInstances', instance(), 'Denied'),
    row(agent, 'StartInstances on a Project=Other instance', 'ec2:StartInstances', instance(), 'Denied', tagged('Other')),
    row(agent, 'StopInstances on a Project=Other instance', 'ec2:StopInstances', instance(), 'Denied', tagged('Other')),
    row(agent, 'TerminateInstances on a project instance', 'ec2:TerminateInstances', instance(), 'Denied', tagged(config.tags.Project)),
    // No ops command reads or writes a bucket, so the agent has no S3 access at all.
    row(agent, 'GetObject in the assets bucket (no ops command reads buckets)', 's3:GetObject', `${assets}/game-assets/sprites/hero.png`, 'Denied'),
    row(agent, 'DeleteObject of a backup', 's3:DeleteObject', `${backups}/databases/postgres.dump.gz`, 'Denied'),
    row(agent, 'GetObject of the Terraform state', 's3:GetObject', `arn:aws:s3:::${config.state.bucket}/${config.state.keyPrefix}/iam.tfstate`, 'Denied'),
    row(agent, 'RebootInstances on a project instance (no ops command reboots)', 'ec2:RebootInstances', instance(), 'Denied', tagged(config.tags.Project)),
    row(agent, `GetSecretValue of ${config.secrets.names[0]}`, 'secretsmanager:GetSecretValue', secret(config.secrets.names[0]), 'Allowed'),
    row(agent, `GetSecretValue of ${config.secrets.hostingerApiToken}`, 'secretsmanager:GetSecretValue', secret(config.secrets.hostingerApiToken), 'Allowed'),
    row(agent, 'GetSecretValue outside ' + names.secretsRoot, 'secretsmanager:GetSecretValue', secret('other-project/api-key'), 'Denied'),
    row(agent, 'PutSecretValue outside ' + names.secretsRoot, 'secretsmanager:PutSecretValue', secret('other-project/api-key'), 'Denied'),
    row(agent, 'DeleteSecret of a project secret', 'secretsmanager:DeleteSecret', secret(config.secrets.names[0]), 'Denied'),
    row(agent, 'FilterLogEvents on another log group', 'logs:FilterLogEvents', `arn:aws:logs:${region}:${acct}:log-group:/aws/lambda/other`, 'Denied'),
    row(agent, 'ViewBudget of another budget', 'budgets:ViewBudget', `arn:aws:budgets::${acct}:budget/other`, 'Denied'),
  );

  const grafana = names.grafanaUser;
  rows.push(
    row(grafana, 'GetMetricData (the dashboard\'s queries)', 'cloudwatch:GetMetricData', '*', 'Allowed', vps, 'VPS'),
    row(grafana, 'GetMetricData (the dashboard\'s queries)', 'cloudwatch:GetMetricData', '*', 'Denied', away, 'elsewhere'),
    row(grafana, 'PutMetricData', 'cloudwatch:PutMetricData', '*', 'Denied', { ...vps, 'cloudwatch:namespace': 'CWAgent' }, 'VPS'),
    row(grafana, 'GetLogEvents of the audit log', 'logs:GetLogEvents', `${names.auditLogGroupArn}:log-stream:x`, 'Denied', vps, 'VPS'),
    row(grafana, 'DeleteAlarms', 'cloudwatch:DeleteAlarms', `arn:aws:cloudwatch:${region}:${acct}:alarm:${config.project}-gpu-idle`, 'Denied', vps, 'VPS'),
  );

  const bake = names.bakeAmiRole;
  const bakeTag = (value: string) => ({ 'aws:ResourceTag/ziggie:bake-ami': value });
  rows.push(
    row(bake, 'TerminateInstances on the GPU (not tagged by the bake)', 'ec2:TerminateInstances', gpu, 'Denied', tagged(config.tags.Project)),
    row(bake, 'StopInstances on a project instance the bake did not create', 'ec2:StopInstances', instance(), 'Denied', tagged(config.tags.Project)),
    row(bake, 'RunInstances of an instance without the project tag', 'ec2:RunInstances', instance('*'), 'Denied', { 'aws:RequestTag/ziggie:bake-ami': 'builder' }),
    row(bake, 'DeregisterImage of the published image', 'ec2:DeregisterImage', `arn:aws:ec2:${region}::image/ami-0aaaaaaaaaaaaaaaa`, 'Denied', bakeTag('image')),
    row(bake, 'PutParameter on another parameter', 'ssm:PutParameter', `arn:aws:ssm:${region}:${acct}:parameter/other/parameter`, 'Denied'),
    row(bake, 'GetSecretValue of a project secret', 'secretsmanager:GetSecretValue', secret(config.secrets.names[0]), 'Denied'),
  );

  if (config.github) {
    const plan = names.prPlanRole;
    const state = `arn:aws:s3:::${config.state.bucket}`;
    const stateKey = `${state}/${config.state.keyPrefix}/iam.tfstate`;
    rows.push(
      row(plan, 'GetObject of a state file', 's3:GetObject', stateKey, 'Allowed'),
      row(plan, 'ListBucket of the state bucket (where the lock file would be)', 's3:ListBucket', state, 'Allowed'),
      row(plan, 'PutObject of a state file', 's3:PutObject', stateKey, 'Denied'),
      row(plan, 'PutObject of the lock file', 's3:PutObject', `${stateKey}.tflock`, 'Denied'),
      row(plan, 'DeleteObject of the lock file', 's3:DeleteObject', `${stateKey}.tflock`, 'Denied'),
      row(plan, 'GetObject of a backup', 's3:GetObject', `${backups}/databases/2026-01-01.dump.gz`, 'Denied'),
      row(plan, 'GetBucketPolicy of the assets bucket', 's3:GetBucketPolicy', assets, 'Allowed'),
      row(plan, 'GetSecretValue of a project secret', 'secretsmanager:GetSecretValue', secret(config.secrets.names[0]), 'Denied'),
      row(plan, 'DescribeSecret of a project secret', 'secretsmanager:DescribeSecret', secret(config.secrets.names[0]), 'Allowed'),
      row(plan, 'DescribeInstances', 'ec2:DescribeInstances', '*', 'Allowed'),
      row(plan, 'GetRole', 'iam:GetRole', `arn:aws:iam::${acct}:role/${names.prPlanRole}`, 'Allowed'),
      row(plan, 'UpdateAssumeRolePolicy', 'iam:UpdateAssumeRolePolicy', `arn:aws:iam::${acct}:role/${names.prPlanRole}`, 'Denied'),
      row(plan, 'GetFunction', 'lambda:GetFunction', fn, 'Allowed'),
      row(plan, 'InvokeFunction on gpu-control', 'lambda:InvokeFunction', fn, 'Denied'),
      row(plan, 'StartInstances on the GPU', 'ec2:StartInstances', gpu, 'Denied', tagged(config.tags.Project)),
    );
    const oidc = `arn:aws:iam::${acct}:oidc-provider/token.actions.githubusercontent.com`;
    const planArn = iam.identities.find((i) => i.name === plan)?.arn ?? `arn:aws:iam::${acct}:role/${plan}`;
    const claims = (sub: string, aud = 'sts.amazonaws.com') => ({ 'token.actions.githubusercontent.com:sub': sub, 'token.actions.githubusercontent.com:aud': aud });
    const assume = (label: string, context: SimRequest['context'], expect: Expected): Expectation =>
      ({ section: plan, asker: { principal: oidc, label: 'GitHub OIDC' }, label, request: { action: 'sts:AssumeRoleWithWebIdentity', resource: planArn, context }, expect });
    const repo = config.github.repository;
    rows.push(
      assume(`AssumeRoleWithWebIdentity from a pull_request workflow of ${repo}`, claims(`repo:${repo}:pull_request`), 'Allowed'),
      assume(`... from a push to main of ${repo}`, claims(`repo:${repo}:ref:refs/heads/main`), 'Denied'),
      assume(`... from an environment of ${repo}`, claims(`repo:${repo}:environment:prod`), 'Denied'),
      assume('... from a pull_request workflow of another repository', claims('repo:someone/fork:pull_request'), 'Denied'),
      assume('... with another audience', claims(`repo:${repo}:pull_request`, 'https://github.com/someone'), 'Denied'),
    );
  }

  const vpsUser = names.vpsUser;
  if (containerSecret) {
    rows.push(
      row(vpsUser, `GetSecretValue of ${containerSecret}`, 'secretsmanager:GetSecretValue', secret(containerSecret), 'Allowed', vps, 'VPS'),
      row(vpsUser, `GetSecretValue of ${containerSecret}`, 'secretsmanager:GetSecretValue', secret(containerSecret), 'Denied', away, 'elsewhere'),
      row(vpsUser, `GetSecretValue of ${containerSecret}-old (a longer name)`, 'secretsmanager:GetSecretValue', secret(`${containerSecret}-old`), 'Denied', vps, 'VPS'),
    );
  }
  rows.push(
    row(vpsUser, `GetSecretValue of ${config.secrets.hostingerApiToken} (no container uses it)`, 'secretsmanager:GetSecretValue', secret(config.secrets.hostingerApiToken), 'Denied', vps, 'VPS'),
    row(vpsUser, 'PutObject of a database backup', 's3:PutObject', `${backups}/databases/2026-01-01.dump.gz`, 'Allowed', vps, 'VPS'),
    row(vpsUser, 'PutObject of a database backup', 's3:PutObject', `${backups}/databases/2026-01-01.dump.gz`, 'Denied', away, 'elsewhere'),
    row(vpsUser, 'PutObject outside the backup prefixes', 's3:PutObject', `${backups}/elsewhere/x`, 'Denied', vps, 'VPS'),
    row(vpsUser, 'GetObject of a backup', 's3:GetObject', `${backups}/databases/2026-01-01.dump.gz`, 'Denied', vps, 'VPS'),
    row(vpsUser, 'DeleteObject of a backup', 's3:DeleteObject', `${backups}/databases/2026-01-01.dump.gz`, 'Denied', vps, 'VPS'),
    row(vpsUser, 'ListBucket under databases/', 's3:ListBucket', backups, 'Allowed', { ...vps, 's3:prefix': 'databases/' }, 'VPS'),
    row(vpsUser, 'ListBucket of the whole bucket', 's3:ListBucket', backups, 'Denied', { ...vps, 's3:prefix': '' }, 'VPS'),
    row(vpsUser, 'PutObject in the assets bucket', 's3:PutObject', `${assets}/shared/x`, 'Denied', vps, 'VPS'),
  );

  const n8n = names.bedrockUser;
  for (const model of config.bedrock.modelArns.slice(0, 1)) {
    rows.push(
      row(n8n, 'InvokeModel on a configured model', 'bedrock:InvokeModel', model, 'Allowed', vps, 'VPS'),
      row(n8n, 'InvokeModel on a configured model', 'bedrock:InvokeModel', model, 'Denied', away, 'elsewhere'),
      row(n8n, 'InvokeModel on another model', 'bedrock:InvokeModel', `arn:aws:bedrock:${region}::foundation-model/other.model-v1:0`, 'Denied', vps, 'VPS'),
    );
  }
  const url = { 'lambda:FunctionUrlAuthType': 'AWS_IAM' };
  rows.push(
    row(n8n, 'InvokeFunctionUrl on gpu-control', 'lambda:InvokeFunctionUrl', fn, 'Allowed', { ...vps, ...url }, 'VPS'),
    row(n8n, 'InvokeFunctionUrl on gpu-control', 'lambda:InvokeFunctionUrl', fn, 'Denied', { ...away, ...url }, 'elsewhere'),
    row(n8n, 'PutObject under comfyui/generated/', 's3:PutObject', `${assets}/comfyui/generated/out.png`, 'Allowed', vps, 'VPS'),
    row(n8n, 'PutObject under comfyui/generated/', 's3:PutObject', `${assets}/comfyui/generated/out.png`, 'Denied', away, 'elsewhere'),
    row(n8n, 'PutObject under game-assets/', 's3:PutObject', `${assets}/game-assets/sprites/x.png`, 'Denied', vps, 'VPS'),
  );

  const comfy = 'ziggie-comfyui-instance';
  rows.push(
    row(comfy, 'PutMetricData in CWAgent', 'cloudwatch:PutMetricData', '*', 'Allowed', { 'cloudwatch:namespace': 'CWAgent' }),
    row(comfy, 'PutMetricData in AWS/EC2', 'cloudwatch:PutMetricData', '*', 'Denied', { 'cloudwatch:namespace': 'AWS/EC2' }),
    row(comfy, 'PutObject under comfyui/generated/', 's3:PutObject', `${assets}/comfyui/generated/out.png`, 'Allowed'),
    row(comfy, 'PutObject under game-assets/', 's3:PutObject', `${assets}/game-assets/sprites/x.png`, 'Denied'),
    row(comfy, 'GetObject under comfyui/generated/ (the job worker reads its results back)', 's3:GetObject', `${assets}/comfyui/generated/out.png`, 'Allowed'),
    row(comfy, 'GetObject under game-assets/', 's3:GetObject', `${assets}/game-assets/sprites/x.png`, 'Denied'),
    row(comfy, 'GetObject of a backup', 's3:GetObject', `${backups}/databases/2026-01-01.dump.gz`, 'Denied'),
    row(comfy, 'GetSecretValue of a project secret', 'secretsmanager:GetSecretValue', secret(config.secrets.names[0]), 'Denied'),
    row(comfy, 'StartInstances on a project instance', 'ec2:StartInstances', instance(), 'Denied', tagged(config.tags.Project)),
    row(comfy, 'ssm:GetParameter on any parameter (AmazonSSMManagedInstanceCore grants it on *: keep secrets out of SSM parameters)',
      'ssm:GetParameter', `arn:aws:ssm:${region}:${acct}:parameter/any/parameter`, 'Allowed'),
  );

  const lambda = 'ziggie-gpu-control';
  rows.push(
    row(lambda, 'StartInstances on the GPU', 'ec2:StartInstances', gpu, 'Allowed'),
    row(lambda, 'StopInstances on the GPU', 'ec2:StopInstances', gpu, 'Allowed'),
    row(lambda, 'StartInstances on another project instance', 'ec2:StartInstances', instance(), 'Denied', tagged(config.tags.Project)),
    row(lambda, 'TerminateInstances on the GPU', 'ec2:TerminateInstances', gpu, 'Denied'),
    row(lambda, 'GetSecretValue of a project secret', 'secretsmanager:GetSecretValue', secret(config.secrets.names[0]), 'Denied'),
    row(lambda, 'PutObject in the assets bucket', 's3:PutObject', `${assets}/comfyui/generated/out.png`, 'Denied'),
  );

  rows.push(
    row('ziggie-gpu-runtime-cap', 'InvokeFunction on gpu-control', 'lambda:InvokeFunction', fn, 'Allowed'),
    row('ziggie-gpu-runtime-cap', 'InvokeFunction on another function', 'lambda:InvokeFunction', `arn:aws:lambda:${region}:${acct}:function:other`, 'Denied'),
    row('ziggie-budget-stop-gpu', 'StopInstances on the GPU', 'ec2:StopInstances', gpu, 'Allowed'),
    row('ziggie-budget-stop-gpu', 'StartInstances on the GPU', 'ec2:StartInstances', gpu, 'Denied'),
    row('ziggie-budget-stop-gpu', 'StopInstances on another project instance', 'ec2:StopInstances', instance(), 'Denied', tagged(config.tags.Project)),
    row('ziggie-budget-stop-gpu', 'StartAutomationExecution of AWS-StopEC2Instance', 'ssm:StartAutomationExecution',
      `arn:aws:ssm:${region}:${acct}:automation-definition/AWS-StopEC2Instance:1`, 'Allowed'),
    row('ziggie-budget-stop-gpu', 'StartAutomationExecution of AWS-RunShellScript', 'ssm:StartAutomationExecution',
      `arn:aws:ssm:${region}:${acct}:automation-definition/AWS-RunShellScript:1`, 'Denied'),
  );

  const flowGroup = `arn:aws:logs:${region}:${acct}:log-group:${names.flowLogGroup}`;
  rows.push(
    row(names.flowLogRole, 'PutLogEvents into the flow-log group', 'logs:PutLogEvents', `${flowGroup}:log-stream:eni-1`, 'Allowed'),
    row(names.flowLogRole, 'PutLogEvents into the audit log group', 'logs:PutLogEvents', `${names.auditLogGroupArn}:log-stream:x`, 'Denied'),
  );

  // Resource policies: who outside the identities above may touch the project's resources.
  const res = (label: string, principal: string, who: string, action: string, resource: string, expect: Expected, context: SimRequest['context'] = {}): Expectation =>
    ({ section: 'resource policies', asker: { principal, label: who }, label, request: { action, resource, context }, expect });
  const distribution = arnOf('aws_cloudfront_distribution');
  const trail = names.trailArn;
  const topic = arnOf('aws_sns_topic');
  const idleRule = iam.arns.find((a) => a.type === 'aws_cloudwatch_event_rule' && /idle/.test(a.name))?.arn;
  const stranger = `arn:aws:iam::${STRANGER_ACCOUNT}:user/stranger`;
  if (distribution) {
    rows.push(
      res('GetObject through the distribution (OAC)', 'cloudfront.amazonaws.com', 'CloudFront', 's3:GetObject', `${assets}/game-assets/sprites/hero.png`, 'Allowed', { 'aws:SourceArn': distribution }),
      res('GetObject through another distribution', 'cloudfront.amazonaws.com', 'CloudFront', 's3:GetObject', `${assets}/game-assets/sprites/hero.png`, 'Denied',
        { 'aws:SourceArn': `arn:aws:cloudfront::${STRANGER_ACCOUNT}:distribution/EOTHER` }),
    );
  }
  rows.push(
    res('GetObject from another account', stranger, 'another account', 's3:GetObject', `${assets}/game-assets/sprites/hero.png`, 'Denied'),
    res('PutObject of a log file', 'cloudtrail.amazonaws.com', 'CloudTrail', 's3:PutObject', `arn:aws:s3:::${names.auditBucket}/AWSLogs/${acct}/CloudTrail/x.json.gz`, 'Allowed',
      { 'aws:SourceArn': trail, 's3:x-amz-acl': 'bucket-owner-full-control' }),
    res('PutObject of a log file by another trail', 'cloudtrail.amazonaws.com', 'CloudTrail', 's3:PutObject', `arn:aws:s3:::${names.auditBucket}/AWSLogs/${acct}/CloudTrail/x.json.gz`, 'Denied',
      { 'aws:SourceArn': `arn:aws:cloudtrail:${region}:${STRANGER_ACCOUNT}:trail/other`, 's3:x-amz-acl': 'bucket-owner-full-control' }),
  );
  if (topic) {
    rows.push(
      res('Publish to the alerts topic', 'events.amazonaws.com', 'EventBridge', 'sns:Publish', topic, 'Allowed', { 'aws:SourceAccount': acct }),
      res('Publish to the alerts topic for another account', 'events.amazonaws.com', 'EventBridge', 'sns:Publish', topic, 'Denied', { 'aws:SourceAccount': STRANGER_ACCOUNT }),
    );
  }
  if (idleRule) {
    rows.push(
      res('InvokeFunction on gpu-control from the idle rule', 'events.amazonaws.com', 'EventBridge', 'lambda:InvokeFunction', fn, 'Allowed', { 'aws:SourceArn': idleRule }),
      res('InvokeFunction on gpu-control from another rule', 'events.amazonaws.com', 'EventBridge', 'lambda:InvokeFunction', fn, 'Denied',
        { 'aws:SourceArn': `arn:aws:events:${region}:${STRANGER_ACCOUNT}:rule/other` }),
    );
  }
  return rows;
}

/** For every identity: no IAM changes, no secrets outside the project root, no foreign buckets, no untagged instances. */
function forbiddenRows(config: ZiggieConfig, iam: ResolvedIam): Expectation[] {
  const { region, accountId: acct } = config;
  const names = ziggieNames(config);
  const forbidden: Array<[string, string, string, SimRequest['context']?]> = [
    ['iam:PassRole on any role', 'iam:PassRole', `arn:aws:iam::${acct}:role/any-role`],
    ['iam:CreateUser', 'iam:CreateUser', `arn:aws:iam::${acct}:user/new-user`],
    ['iam:AttachUserPolicy', 'iam:AttachUserPolicy', `arn:aws:iam::${acct}:user${names.iamPath}${names.vpsUser}`],
    ['iam:CreateAccessKey', 'iam:CreateAccessKey', `arn:aws:iam::${acct}:user${names.iamPath}${names.vpsUser}`],
    [`GetSecretValue outside ${names.secretsRoot}`, 'secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${region}:${acct}:secret:other-project/key-AbCdEf`],
    ['GetObject in a bucket of another project', 's3:GetObject', 'arn:aws:s3:::not-this-project/data.bin'],
    ['PutObject in a bucket of another project', 's3:PutObject', 'arn:aws:s3:::not-this-project/data.bin'],
    ['StartInstances on an untagged instance', 'ec2:StartInstances', `arn:aws:ec2:${region}:${acct}:instance/i-0bbbbbbbbbbbbbbbb`],
  ];
  return iam.identities.flatMap((identity) => forbidden.map(([label, action, resource, context]) => ({
    section: identity.name,
    asker: { identity: identity.name },
    label: `forbidden: ${label}`,
    request: { action, resource, context: { ...(identity.kind === 'user' ? { 'aws:SourceIp': config.vps.publicIp } : {}), ...context } },
    ...(identity.kind === 'user' ? { from: 'VPS' } : {}),
    expect: 'Denied' as const,
  })));
}

/**
 * Every IAM user's key lives outside AWS, on the VPS: each action of each Allow statement, on a sample of each of
 * its resources and with its other conditions met, is allowed from the VPS and denied from anywhere else.
 */
function pinnedRows(config: ZiggieConfig, iam: ResolvedIam): Expectation[] {
  const rows: Expectation[] = [];
  for (const identity of iam.identities.filter((i) => i.kind === 'user')) {
    for (const policy of identity.policies) {
      policy.document.Statement.forEach((st, index) => {
        if (st.Effect !== 'Allow') return;
        for (const action of asList(st.Action)) {
          for (const resource of asList(st.Resource)) {
            const request = { action, resource: sampleOf(resource), context: conditionSample(st) };
            const label = `pinned: ${policy.name} ${st.Sid ?? `statement ${index + 1}`}: ${action} on ${request.resource}`;
            for (const [from, ip, expect] of [['VPS', config.vps.publicIp, 'Allowed'], ['elsewhere', elsewhereIp(config), 'Denied']] as const) {
              rows.push({ section: identity.name, asker: { identity: identity.name }, label, from, expect,
                request: { ...request, context: { ...request.context, 'aws:SourceIp': ip } } });
            }
          }
        }
      });
    }
  }
  // A resource policy that names a user grants it without any identity policy (same account): pinned there too.
  for (const policy of iam.resourcePolicies) {
    policy.document.Statement.forEach((st, index) => {
      if (st.Effect !== 'Allow' || typeof st.Principal !== 'object') return;
      for (const arn of asList(st.Principal.AWS)) {
        const user = iam.identities.find((i) => i.kind === 'user' && i.arn === arn);
        if (!user) continue;
        for (const action of asList(st.Action)) {
          for (const resource of asList(st.Resource)) {
            const request = { action, resource: sampleOf(resource), context: conditionSample(st) };
            const label = `pinned: ${policy.name} ${st.Sid ?? `statement ${index + 1}`}: ${action} on ${request.resource}`;
            for (const [from, ip, expect] of [['VPS', config.vps.publicIp, 'Allowed'], ['elsewhere', elsewhereIp(config), 'Denied']] as const) {
              rows.push({ section: user.name, asker: { identity: user.name }, label, from, expect,
                request: { ...request, context: { ...request.context, 'aws:SourceIp': ip } } });
            }
          }
        }
      }
    });
  }
  return rows;
}

/** Every role: its own service may assume it (from this account when pinned), nobody else. */
function trustRows(iam: ResolvedIam): Expectation[] {
  const rows: Expectation[] = [];
  for (const role of iam.identities.filter((i): i is Identity & { trust: NonNullable<Identity['trust']> } => i.kind === 'role' && !!i.trust)) {
    const row = (principal: string, who: string, label: string, expect: Expected, context: SimRequest['context'] = {}): Expectation =>
      ({ section: role.name, asker: { principal, label: who }, label, request: { action: 'sts:AssumeRole', resource: role.arn, context }, expect });
    const services = role.trust.Statement.filter((st) => st.Effect === 'Allow' && typeof st.Principal === 'object' && st.Principal.Service)
      .flatMap((st) => asList((st.Principal as Record<string, string | string[]>).Service).map((service) => ({ service, st })));
    for (const { service, st } of services) {
      const pinned = JSON.stringify(st.Condition ?? {}).includes('aws:SourceAccount');
      rows.push(row(service, service, `AssumeRole by ${service}`, 'Allowed', { 'aws:SourceAccount': iam.accountId }));
      if (pinned) rows.push(row(service, service, `AssumeRole by ${service} for another account`, 'Denied', { 'aws:SourceAccount': STRANGER_ACCOUNT }));
    }
    const other = ['lambda.amazonaws.com', 'ec2.amazonaws.com'].find((s) => !services.some((x) => x.service === s))!;
    rows.push(
      row(other, other, `AssumeRole by ${other}`, 'Denied', { 'aws:SourceAccount': iam.accountId }),
      row(`arn:aws:iam::${STRANGER_ACCOUNT}:user/stranger`, 'another account', 'AssumeRole from another account', 'Denied'),
    );
  }
  return rows;
}

/** A concrete value matching an IAM pattern: `*` → `sample`, `?` → `x`. */
export function sampleOf(pattern: string): string {
  return pattern === '*' ? '*' : pattern.replace(/\*/g, 'sample').replace(/\?/g, 'x');
}

/** Context that meets a statement's conditions other than the source address. */
function conditionSample(st: PolicyDocumentStatement): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [op, byKey] of Object.entries(st.Condition ?? {})) {
    for (const [key, value] of Object.entries(byKey)) {
      if (key.toLowerCase() === 'aws:sourceip') continue;
      const first = String(asList(value as string | string[])[0]);
      out[key] = /Like$/.test(op) ? sampleOf(first) : first;
    }
  }
  return out;
}
