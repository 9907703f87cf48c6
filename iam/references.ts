/**
 * Terraform references in the synthesized JSON (`${aws_lambda_function.gpu-control.arn}`) replaced by the value the
 * config implies: ARNs are built from the resource's own name attributes and the stack's provider (region, the one
 * allowed account). Ids AWS assigns at creation (an instance id, a distribution id) become a stable placeholder
 * derived from the address, so every policy that names the same resource names the same placeholder.
 * A reference this module cannot resolve is an error, never left in place.
 */
import { createHash } from 'node:crypto';
import type { SynthesizedStack } from '../shared/terraform-json';

export interface StackScope {
  readonly stack: SynthesizedStack;
  readonly region: string;
  readonly accountId: string;
}

export function stackScope(stack: SynthesizedStack): StackScope {
  const provider = stack.json.provider?.aws?.[0] ?? {};
  const region = provider.region;
  const accounts = provider.allowed_account_ids;
  if (typeof region !== 'string' || !Array.isArray(accounts) || accounts.length !== 1) {
    throw new Error(`${stack.name}: the aws provider must name one region and exactly one allowed account`);
  }
  return { stack, region, accountId: String(accounts[0]) };
}

/** Replace every `${…}` in a string; other values are returned as they are. */
export function interpolate(scope: StackScope, value: unknown, where: string): unknown {
  if (typeof value !== 'string') return value;
  return value.replace(/\$\{([^}]*)\}/g, (_, expr: string) => resolveExpression(scope, expr.trim(), where));
}

export function interpolateString(scope: StackScope, value: unknown, where: string): string {
  const out = interpolate(scope, value, where);
  if (typeof out !== 'string') throw new Error(`${where}: expected a string, found ${JSON.stringify(value)}`);
  return out;
}

/** `type.name` of a whole-string reference such as `${aws_iam_role.x.name}`, else undefined. */
export function referencedAddress(value: unknown): { type: string; name: string; attribute: string } | undefined {
  const m = typeof value === 'string' ? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value) : null;
  return m ? { type: m[1], name: m[2], attribute: m[3] } : undefined;
}

function resolveExpression(scope: StackScope, expr: string, where: string): string {
  const m = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(expr);
  if (!m) throw new Error(`${where}: cannot resolve the Terraform expression \${${expr}} (only resource attribute references are understood)`);
  const [, type, name, attribute] = m;
  const config = scope.stack.json.resource?.[type]?.[name];
  if (!config) throw new Error(`${where}: \${${expr}} names ${type}.${name}, which stack ${scope.stack.name} does not define`);
  const at = `${type}.${name}`;
  const attr = (key: string) => interpolateString(scope, config[key], `${at}.${key}`);
  const { region, accountId } = scope;
  const placeholder = (prefix: string, length: number) =>
    `${prefix}${createHash('sha256').update(`${scope.stack.name}/${at}`).digest('hex').slice(0, length)}`;
  const iamArn = (kind: string) => `arn:aws:iam::${accountId}:${kind}${config.path ? attr('path') : '/'}${attr('name')}`;

  const implied: Record<string, Partial<Record<string, () => string>>> = {
    aws_iam_role: { arn: () => iamArn('role'), name: () => attr('name'), id: () => attr('name') },
    aws_iam_user: { arn: () => iamArn('user'), name: () => attr('name'), id: () => attr('name') },
    aws_iam_policy: { arn: () => iamArn('policy'), name: () => attr('name') },
    aws_iam_instance_profile: { arn: () => iamArn('instance-profile'), name: () => attr('name'), id: () => attr('name') },
    aws_iam_openid_connect_provider: { arn: () => `arn:aws:iam::${accountId}:oidc-provider/${attr('url').replace(/^https:\/\//, '')}` },
    aws_s3_bucket: { arn: () => `arn:aws:s3:::${attr('bucket')}`, id: () => attr('bucket'), bucket: () => attr('bucket') },
    aws_lambda_function: {
      arn: () => `arn:aws:lambda:${region}:${accountId}:function:${attr('function_name')}`,
      function_name: () => attr('function_name'),
    },
    aws_cloudwatch_log_group: { arn: () => `arn:aws:logs:${region}:${accountId}:log-group:${attr('name')}`, name: () => attr('name') },
    aws_sns_topic: { arn: () => `arn:aws:sns:${region}:${accountId}:${attr('name')}`, id: () => `arn:aws:sns:${region}:${accountId}:${attr('name')}` },
    aws_sqs_queue: {
      arn: () => `arn:aws:sqs:${region}:${accountId}:${attr('name')}`,
      url: () => `https://sqs.${region}.amazonaws.com/${accountId}/${attr('name')}`,
      id: () => `https://sqs.${region}.amazonaws.com/${accountId}/${attr('name')}`,
      name: () => attr('name'),
    },
    aws_cloudwatch_event_rule: { arn: () => `arn:aws:events:${region}:${accountId}:rule/${attr('name')}`, name: () => attr('name') },
    aws_cloudwatch_metric_alarm: { arn: () => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${attr('alarm_name')}`, alarm_name: () => attr('alarm_name') },
    aws_cloudwatch_composite_alarm: { arn: () => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${attr('alarm_name')}`, alarm_name: () => attr('alarm_name') },
    aws_scheduler_schedule: { arn: () => `arn:aws:scheduler:${region}:${accountId}:schedule/default/${attr('name')}` },
    aws_secretsmanager_secret: {
      arn: () => `arn:aws:secretsmanager:${region}:${accountId}:secret:${attr('name')}-${placeholder('', 6)}`,
      id: () => `arn:aws:secretsmanager:${region}:${accountId}:secret:${attr('name')}-${placeholder('', 6)}`,
    },
    aws_instance: { id: () => placeholder('i-0', 16), arn: () => `arn:aws:ec2:${region}:${accountId}:instance/${placeholder('i-0', 16)}` },
    aws_cloudfront_distribution: {
      id: () => placeholder('E', 13).toUpperCase(),
      arn: () => `arn:aws:cloudfront::${accountId}:distribution/${placeholder('E', 13).toUpperCase()}`,
    },
  };
  const make = implied[type]?.[attribute];
  if (!make) throw new Error(`${where}: cannot imply ${type}.${attribute} for \${${expr}} (add it to iam/references.ts)`);
  return make();
}
