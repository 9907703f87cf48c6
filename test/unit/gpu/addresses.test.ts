import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { loadConfig } from '../../../config/load';
import { FlatConstruct } from '../../../modules/flat-construct';
import { GpuStack } from '../../../stacks/gpu';
import { ZiggieStack } from '../../../stacks/ziggie-stack';
import { resourcesOf, type TerraformJson } from '../../../shared/terraform-json';

const config = loadConfig();
const synth = (stack: ZiggieStack) => JSON.parse(Testing.synth(stack)) as TerraformJson;

describe('Terraform addresses of the GPU stack (a changed address replaces a live resource)', () => {
  test('are the ones the stack had before it was split into constructs, plus the job queue\'s', () => {
    const stack = new GpuStack(Testing.app(), 'gpu', config, { subnetId: 'subnet-0aaa', comfyuiSecurityGroupId: 'sg-0bbb' });
    expect(resourcesOf({ name: 'gpu', json: synth(stack) }).map((r) => r.address).sort()).toEqual([
      'aws_budgets_budget_action.budget-stop', 'aws_cloudwatch_composite_alarm.idle', 'aws_cloudwatch_event_rule.idle-rule',
      'aws_cloudwatch_event_rule.spot-interruption', 'aws_cloudwatch_event_rule.spot-rebalance', 'aws_cloudwatch_event_target.idle-target',
      'aws_cloudwatch_event_target.spot-interruption-email', 'aws_cloudwatch_event_target.spot-interruption-target',
      'aws_cloudwatch_event_target.spot-rebalance-email', 'aws_cloudwatch_event_target.spot-rebalance-target',
      'aws_cloudwatch_log_group.comfyui-logs', 'aws_cloudwatch_log_group.function-logs', 'aws_cloudwatch_metric_alarm.idle-cpu',
      'aws_cloudwatch_metric_alarm.idle-gpu', 'aws_cloudwatch_metric_alarm.idle-queue', 'aws_iam_instance_profile.instance-profile',
      'aws_iam_policy.invoke-policy', 'aws_iam_role.budget-action-role', 'aws_iam_role.function-role', 'aws_iam_role.instance-role',
      'aws_iam_role.scheduler-role', 'aws_iam_role_policy.budget-action-policy', 'aws_iam_role_policy.function-policy',
      'aws_iam_role_policy.instance-policy', 'aws_iam_role_policy.scheduler-policy', 'aws_iam_user_policy_attachment.n8n-may-invoke',
      'aws_instance.instance', 'aws_lambda_function.gpu-control', 'aws_lambda_function_url.gpu-control-url',
      'aws_lambda_permission.idle-permission', 'aws_lambda_permission.spot-interruption-permission',
      'aws_lambda_permission.spot-rebalance-permission', 'aws_launch_template.launch-template', 'aws_scheduler_schedule.runtime-cap',
      'aws_sns_topic.alerts', 'aws_sns_topic_policy.alerts-policy', 'aws_sns_topic_subscription.alerts-email-0',
      // issue 16: the ComfyUI job queue and its start-on-demand path
      'aws_cloudwatch_event_rule.jobs-waiting-rule', 'aws_cloudwatch_event_target.jobs-waiting-target',
      'aws_cloudwatch_metric_alarm.jobs-queue-empty', 'aws_cloudwatch_metric_alarm.jobs-waiting',
      'aws_lambda_permission.jobs-waiting-permission', 'aws_sqs_queue.jobs-dlq', 'aws_sqs_queue.jobs-queue',
      'aws_sqs_queue_policy.jobs-dlq-policy', 'aws_sqs_queue_policy.jobs-queue-policy',
      // issue 15: the cost report (Lambda + monthly and weekly schedules), the dashboard and the high-CPU alarm
      'aws_cloudwatch_log_group.cost-report-logs', 'aws_iam_role.cost-report-role', 'aws_iam_role_policy.cost-report-policy',
      'aws_lambda_function.cost-report', 'aws_iam_role.cost-report-scheduler-role', 'aws_iam_role_policy.cost-report-scheduler-policy',
      'aws_scheduler_schedule.cost-report-monthly', 'aws_scheduler_schedule.cost-report-weekly',
      'aws_cloudwatch_dashboard.dashboard', 'aws_cloudwatch_metric_alarm.high-cpu',
    ].sort());
  });
});

describe('FlatConstruct', () => {
  class Probe extends ZiggieStack {
    constructor(build: (stack: ZiggieStack) => void) {
      super(Testing.app(), 'probe', { config, backend: 'local' });
      build(this);
    }
  }
  const addresses = (stack: ZiggieStack) => resourcesOf({ name: 'probe', json: synth(stack) }).map((r) => r.address).sort();

  test('leaves its own id out of its resources\' addresses; an ordinary construct still namespaces them', () => {
    const stack = new Probe((s) => {
      new SnsTopic(new FlatConstruct(s, 'group'), 'flat-topic', { name: 'a' });
      new SnsTopic(new Construct(s, 'plain'), 'nested-topic', { name: 'b' });
    });
    const [flat, nested] = addresses(stack);
    expect(flat).toBe('aws_sns_topic.flat-topic');
    expect(nested).toMatch(/^aws_sns_topic\.plain_nested-topic_[0-9A-F]{8}$/);
  });

  test('a flat construct nested in an ordinary one keeps that one\'s namespace', () => {
    const stack = new Probe((s) => new SnsTopic(new FlatConstruct(new Construct(s, 'outer'), 'group'), 'topic', { name: 'c' }));
    expect(addresses(stack)).toEqual([expect.stringMatching(/^aws_sns_topic\.outer_topic_[0-9A-F]{8}$/)]);
  });

  test('two resources that would share an address are refused, naming both', () => {
    const stack = new Probe((s) => {
      new SnsTopic(new FlatConstruct(s, 'one'), 'topic', { name: 'd' });
      new SnsTopic(new FlatConstruct(s, 'two'), 'topic', { name: 'e' });
    });
    expect(() => synth(stack)).toThrow('"probe/two/topic" and "probe/one/topic" would both be topic in Terraform');
  });
});
