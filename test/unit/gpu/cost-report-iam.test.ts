/**
 * The cost report Lambda's role (modules/gpu/cost-report.ts) through the IAM policy simulator
 * (@cloud-copilot/iam-simulate): it may read Cost Explorer, publish to the notifications topic and write its own
 * logs; another topic, EC2 or Cost Explorer writes are denied.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Testing } from 'cdktf';
import { loadConfig } from '../../../config/load';
import { GpuStack } from '../../../stacks/gpu';
import { parseJsonAttribute, resourcesOf, type TerraformJson } from '../../../shared/terraform-json';

const config = loadConfig();
const TOPIC = `arn:aws:sns:${config.region}:${config.accountId}:ziggie-gpu-alerts`;
const LOGS = `arn:aws:logs:${config.region}:${config.accountId}:log-group:/aws/lambda/ziggie-cost-report`;

const stack = new GpuStack(Testing.app(), 'gpu', config, { subnetId: 'subnet-0aaa', comfyuiSecurityGroupId: 'sg-0bbb' });
const all = resourcesOf({ name: 'gpu', json: JSON.parse(Testing.synth(stack)) as TerraformJson });
const raw = all.find((r) => r.type === 'aws_iam_role_policy' && (r.config as any).name === 'read-costs-publish-report')!.config.policy;
// the synthesized policy names the topic and the log group by reference: the simulator gets their ARNs
const policy = JSON.parse(JSON.stringify(parseJsonAttribute(raw)).replaceAll('${aws_sns_topic.alerts.arn}', TOPIC).replaceAll('${aws_cloudwatch_log_group.cost-report-logs.arn}', LOGS));

async function verdict(action: string, resource: string): Promise<string> {
  const r = await runSimulation({
    identityPolicies: [{ name: 'cost-report', policy }], serviceControlPolicies: [], resourceControlPolicies: [],
    request: { principal: `arn:aws:sts::${config.accountId}:assumed-role/ziggie-cost-report/ziggie-cost-report`, action, resource: { resource, accountId: config.accountId }, contextVariables: {} },
  }, {});
  if (r.resultType === 'error') throw new Error(`${action} ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

test.each([
  ['ce:GetCostAndUsage', '*', 'Allowed'],
  ['ce:GetCostForecast', '*', 'Allowed'],
  ['sns:Publish', TOPIC, 'Allowed'],
  ['logs:PutLogEvents', `${LOGS}:log-stream:2026/11/01/abc`, 'Allowed'],
  ['sns:Publish', `arn:aws:sns:${config.region}:${config.accountId}:someone-else`, 'ImplicitlyDenied'],
  ['ec2:StopInstances', `arn:aws:ec2:${config.region}:${config.accountId}:instance/i-0123456789abcdef0`, 'ImplicitlyDenied'],
  ['ce:UpdateCostAllocationTagsStatus', '*', 'ImplicitlyDenied'],
  ['logs:PutLogEvents', `arn:aws:logs:${config.region}:${config.accountId}:log-group:/ziggie/infrastructure-audit:log-stream:x`, 'ImplicitlyDenied'],
])('%s on %s: %s', async (action, resource, expected) => {
  expect(await verdict(action, resource)).toBe(expected);
});
