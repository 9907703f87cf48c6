import { Testing } from 'cdktf';
import { loadConfig } from '../../../config/load';
import type { ZiggieConfig } from '../../../config/schema';
import { GpuStack } from '../../../stacks/gpu';
import { resourcesOf, parseJsonAttribute, type TerraformJson } from '../../../shared/terraform-json';

function synthGpu(config: ZiggieConfig): TerraformJson {
  const app = Testing.app();
  const stack = new GpuStack(app, 'gpu', config, { subnetId: 'subnet-0aaa', comfyuiSecurityGroupId: 'sg-0bbb' });
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}

const config = loadConfig();
const tf = synthGpu(config);
const all = resourcesOf({ name: 'gpu', json: tf });
const ofType = (type: string) => all.filter((r) => r.type === type);
const one = (type: string, name?: string) => {
  // the cost report's Lambda and schedules (issue 15) sit beside gpu-control's: pick by name where there are two
  const found = ofType(type).filter((r) => name === undefined || [(r.config as any).function_name, (r.config as any).name].includes(name));
  expect(found).toHaveLength(1);
  return found[0].config as Record<string, any>;
};

describe('idle stop arithmetic, read from the synthesized JSON', () => {
  const alarms = ofType('aws_cloudwatch_metric_alarm').map((r) => r.config as Record<string, any>).filter((a) => a.dimensions?.InstanceId && a.alarm_name !== 'ziggie-gpu-high-cpu');
  const composite = one('aws_cloudwatch_composite_alarm');

  test('three idle alarms (CPU, GPU, queue), each covering exactly idleMinutes with every datapoint idle', () => {
    expect(alarms.map((a) => a.metric_name).sort()).toEqual(['CPUUtilization', 'QueueDepth', 'nvidia_smi_utilization_gpu']);
    for (const a of alarms) {
      expect(a.period * a.evaluation_periods).toBe(config.gpu.idleMinutes * 60);
      expect(a.datapoints_to_alarm).toBe(a.evaluation_periods);
      expect(a.comparison_operator).toBe('LessThanThreshold');
    }
  });

  test('the composite alarm fires only when all three, and the job queue\'s "empty" alarm, are in ALARM', () => {
    // The rule references the alarms (so Terraform orders them first); resolve each reference to its name.
    const byAddress = new Map(ofType('aws_cloudwatch_metric_alarm').map((r) => [r.address, (r.config as any).alarm_name]));
    const resolved = String(composite.alarm_rule).replace(/\$\{([\w.-]+)\.alarm_name\}/g, (_m, address) => byAddress.get(address));
    const terms = resolved.split(' AND ');
    expect(terms.sort()).toEqual(['ALARM("ziggie-comfyui-jobs-empty")', 'ALARM("ziggie-gpu-idle-cpu")', 'ALARM("ziggie-gpu-idle-gpu")', 'ALARM("ziggie-gpu-idle-queue")']);
    expect(composite.alarm_rule).not.toMatch(/\bOR\b|NOT/);
  });

  test('missing data neither stops a busy instance nor makes a stopped one flap', () => {
    // "Breaching" would mean idle; a gap must never count as idle.
    for (const a of alarms) expect(a.treat_missing_data).toBe('notBreaching');
  });

  test('changing idleMinutes changes the window and nothing else', () => {
    const tf25 = synthGpu({ ...config, gpu: { ...config.gpu, idleMinutes: 25 } });
    for (const r of resourcesOf({ name: 'gpu', json: tf25 }).filter((x) => x.type === 'aws_cloudwatch_metric_alarm')) {
      const a = r.config as Record<string, any>;
      if (a.alarm_name.endsWith('-waiting') || a.alarm_name === 'ziggie-gpu-high-cpu') continue;
      const period = a.period ?? a.metric_query.find((q: any) => q.metric)?.metric.period;
      expect(period * a.evaluation_periods).toBe(25 * 60);
    }
  });

  test('the composite alarm reaches the Lambda through an EventBridge rule for its ALARM state', () => {
    const rules = ofType('aws_cloudwatch_event_rule').map((r) => JSON.parse(String((r.config as any).event_pattern)));
    expect(rules).toContainEqual(expect.objectContaining({
      source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] } },
    }));
  });
});

describe('the ComfyUI job queue', () => {
  const queues = ofType('aws_sqs_queue');
  const queue = queues.find((q) => (q.config as any).name === 'ziggie-comfyui-jobs')!.config as Record<string, any>;
  const dlq = queues.find((q) => (q.config as any).name === 'ziggie-comfyui-jobs-dlq')!;
  const policies = ofType('aws_sqs_queue_policy').map((p) => ({ url: (p.config as any).queue_url, doc: parseJsonAttribute((p.config as any).policy) as any }));
  const jobsPolicy = policies.find((p) => !String(p.url).includes('dlq'))!.doc;
  const alarm = (name: string) => ofType('aws_cloudwatch_metric_alarm').map((r) => r.config as Record<string, any>).find((a) => a.alarm_name === name)!;

  test('encrypted, with a dead-letter queue after config.gpu.queue.maxReceiveCount receives', () => {
    expect(queue.sqs_managed_sse_enabled).toBe(true);
    expect((dlq.config as any).sqs_managed_sse_enabled).toBe(true);
    expect(JSON.parse(queue.redrive_policy)).toEqual({ deadLetterTargetArn: `\${${dlq.address}.arn}`, maxReceiveCount: config.gpu.queue.maxReceiveCount });
    expect(queue.visibility_timeout_seconds).toBe(config.gpu.queue.visibilityTimeoutSeconds);
  });

  test('both queues deny plain HTTP; n8n and the control plane send from the VPS only, only the instance role receives', () => {
    for (const p of policies) {
      expect(p.doc.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
    const senders = ['arn:aws:iam::111122223333:user/ziggie/ziggie-bedrock', 'arn:aws:iam::111122223333:user/ziggie/ziggie-vps'];
    expect(jobsPolicy.Statement).toContainEqual(expect.objectContaining({ Sid: 'SubmittersSend', Effect: 'Allow', Principal: { AWS: senders }, Action: 'sqs:SendMessage',
      Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.10/32' } } }));
    expect(jobsPolicy.Statement).toContainEqual(expect.objectContaining({ Sid: 'OnlyTheWorkerReceives', Effect: 'Deny',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/ziggie-comfyui-instance' } } }));
  });

  test('a visible job raises the jobs-waiting alarm, whose ALARM reaches gpu-control (which starts the GPU)', () => {
    const waiting = alarm('ziggie-comfyui-jobs-waiting');
    expect(waiting).toMatchObject({ metric_name: 'ApproximateNumberOfMessagesVisible', comparison_operator: 'GreaterThanThreshold', threshold: 0, treat_missing_data: 'notBreaching' });
    const fn = one('aws_lambda_function', 'ziggie-gpu-control');
    expect(fn.environment.variables.JOBS_WAITING_ALARM).toMatch(/alarm_name|ziggie-comfyui-jobs-waiting/);
    const rule = ofType('aws_cloudwatch_event_rule').find((r) => (r.config as any).name === 'ziggie-gpu-jobs-waiting-start')!;
    expect(JSON.parse((rule.config as any).event_pattern)).toMatchObject({ detail: { state: { value: ['ALARM'] } } });
    expect(ofType('aws_cloudwatch_event_target').map((t) => (t.config as any).rule)).toContain(`\${${rule.address}.name}`);
  });

  test('"empty" counts visible + in-flight jobs, and a silent (inactive) queue counts as empty', () => {
    const empty = alarm('ziggie-comfyui-jobs-empty');
    expect(empty.metric_query.find((q: any) => q.expression).expression).toBe('visible + inflight');
    expect(empty).toMatchObject({ comparison_operator: 'LessThanThreshold', threshold: 1, treat_missing_data: 'breaching', evaluation_periods: config.gpu.idleMinutes });
  });
});

describe('capacity fallback in gpu-control', () => {
  test('the Lambda gets the config\'s fallback policy, and may launch, tag and terminate only stand-ins', () => {
    const fn = one('aws_lambda_function', 'ziggie-gpu-control');
    expect(JSON.parse(fn.environment.variables.FALLBACK_POLICY)).toMatchObject({
      otherZones: config.gpu.fallback.otherZones, instanceTypes: config.gpu.fallback.instanceTypes, allowOnDemand: config.gpu.fallback.allowOnDemand,
      spotLaunchTemplate: 'ziggie-comfyui', spotMaxUsdPerHour: config.gpu.spot.maxPriceUsdPerHour,
    });
    const policy = ofType('aws_iam_role_policy').map((p) => parseJsonAttribute((p.config as any).policy) as any)
      .find((d) => d.Statement.some((st: any) => st.Sid === 'StartStopThisInstance'))!;
    const sids = Object.fromEntries(policy.Statement.map((st: any) => [st.Sid, st]));
    expect(sids.TerminateOnlyStandIns.Condition).toEqual({ StringLike: { 'aws:ResourceTag/ziggie:fallback-for': 'i-*' } });
    expect(sids.PassInstanceRole).toMatchObject({ Resource: 'arn:aws:iam::111122223333:role/ziggie-comfyui-instance', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } });
    expect(sids.TagStandInAtLaunch.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances' } });
  });
});

describe('instance', () => {
  const lt = one('aws_launch_template');

  test('persistent Spot that stops on interruption, with the configured max price', () => {
    expect(lt.instance_market_options).toEqual({ market_type: 'spot', spot_options: {
      spot_instance_type: 'persistent', instance_interruption_behavior: 'stop', max_price: '0.3000' } });
    expect(lt.instance_initiated_shutdown_behavior).toBe('stop');
    expect(lt.instance_type).toBe('g4dn.xlarge');
  });

  test('IMDSv2 required, encrypted gp3 root sized from config, no SSH key', () => {
    expect(lt.metadata_options).toMatchObject({ http_tokens: 'required', http_endpoint: 'enabled' });
    expect(lt.block_device_mappings).toEqual([{ device_name: '/dev/sda1', ebs: expect.objectContaining({
      encrypted: 'true', volume_type: 'gp3', volume_size: config.gpu.rootVolumeGb }) }]);
    expect(lt.key_name).toBeUndefined();
  });

  test('the AMI comes from config when pinned, else from the SSM parameter bake-ami writes', () => {
    expect(lt.image_id).toBe(config.gpu.amiId);
    const { amiId: _pinned, ...gpu } = config.gpu;
    const fromSsm = synthGpu({ ...config, gpu });
    expect(fromSsm.data?.aws_ssm_parameter).toBeDefined();
    expect(Object.values(fromSsm.data!.aws_ssm_parameter)[0]).toMatchObject({ name: '/ziggie/comfyui/ami-id' });
  });

  test('in the ComfyUI security group only', () => {
    expect(lt.network_interfaces).toEqual([expect.objectContaining({ security_groups: ['sg-0bbb'], subnet_id: 'subnet-0aaa' })]);
  });

  test('the instance profile can publish metrics, ship its logs and write only comfyui/generated/', () => {
    const policy = parseJsonAttribute(ofType('aws_iam_role_policy').find((r) => (r.config as any).name === 'comfyui-minimal')!.config.policy) as any;
    const s3 = policy.Statement.find((s: any) => s.Sid === 'UploadGeneratedAssets');
    expect(s3).toMatchObject({ Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${config.storage.assetsBucket}/comfyui/generated/*`] });
    const metrics = policy.Statement.find((s: any) => s.Sid === 'PublishGpuAndQueueMetrics');
    expect(metrics.Condition.StringEquals['cloudwatch:namespace']).toEqual(['CWAgent', 'Ziggie/ComfyUI']);
  });
});

describe('gpu-control Lambda', () => {
  test('is exposed as a Function URL with AWS_IAM auth', () => {
    expect(one('aws_lambda_function_url').authorization_type).toBe('AWS_IAM');
  });

  test('its role can start and stop only this instance', () => {
    const policy = parseJsonAttribute(ofType('aws_iam_role_policy').find((r) => (r.config as any).name === 'act-on-the-gpu-only')!.config.policy) as any;
    const act = policy.Statement.find((s: any) => s.Sid === 'StartStopThisInstance');
    expect(act.Action).toEqual(['ec2:StartInstances', 'ec2:StopInstances']);
    expect(act.Resource).toEqual([expect.stringMatching(/^arn:aws:ec2:eu-north-1:111122223333:instance\/\$\{aws_instance\.instance\.id\}$/)]);
  });

  test('the code is a bundled asset with a content hash', () => {
    const fn = one('aws_lambda_function', 'ziggie-gpu-control');
    expect(fn.filename).toMatch(/assets\/.+\.zip$/);
    expect(fn.source_code_hash).toMatch(/^[A-F0-9]{32,}$/i);
    expect(fn.handler).toBe('index.handler');
  });
});

test('max-runtime schedule runs every 15 minutes and asks the Lambda to enforce the cap', () => {
  const schedule = one('aws_scheduler_schedule', 'ziggie-gpu-runtime-cap');
  expect(schedule.schedule_expression).toBe('rate(15 minutes)');
  expect(JSON.parse(schedule.target.input)).toEqual({ action: 'enforce-max-runtime' });
});

test('the budget action stops the instance at the top threshold through SSM', () => {
  const action = one('aws_budgets_budget_action');
  expect(action).toMatchObject({
    action_type: 'RUN_SSM_DOCUMENTS', approval_model: 'AUTOMATIC', notification_type: 'ACTUAL',
    action_threshold: { action_threshold_type: 'ABSOLUTE_VALUE', action_threshold_value: 150 },
    definition: { ssm_action_definition: expect.objectContaining({ action_sub_type: 'STOP_EC2_INSTANCES' }) },
  });
});

test('Spot interruption warnings and rebalance recommendations reach the owner', () => {
  const patterns = ofType('aws_cloudwatch_event_rule').map((r) => JSON.parse(String((r.config as any).event_pattern)));
  const types = patterns.flatMap((p) => p['detail-type']);
  expect(types).toEqual(expect.arrayContaining(['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation']));
  const emails = ofType('aws_sns_topic_subscription').map((r) => (r.config as any).endpoint);
  expect(emails).toEqual(config.notifications.emails);
});

describe('issue 15: cost report schedules, dashboard and high-CPU alarm', () => {
  test('the cost report runs on the 1st (last month) and on Mondays (digest), without retries (no double e-mail)', () => {
    const monthly = one('aws_scheduler_schedule', 'ziggie-cost-report-monthly');
    const weekly = one('aws_scheduler_schedule', 'ziggie-cost-report-weekly');
    expect(monthly.schedule_expression).toBe('cron(0 7 1 * ? *)');
    expect(JSON.parse(monthly.target.input)).toEqual({ kind: 'monthly' });
    expect(weekly.schedule_expression).toBe('cron(0 7 ? * MON *)');
    expect(JSON.parse(weekly.target.input)).toEqual({ kind: 'weekly' });
    for (const s of [monthly, weekly]) {
      expect(s.target.arn).toBe('${aws_lambda_function.cost-report.arn}');
      expect(s.target.retry_policy.maximum_retry_attempts).toBe(0);
    }
    const fn = one('aws_lambda_function', 'ziggie-cost-report');
    expect(fn.environment.variables).toMatchObject({ TOPIC_ARN: '${aws_sns_topic.alerts.arn}', GPU_INSTANCE_TYPE: config.gpu.instanceType, VPS_MONTHLY_USD: String(config.vps.monthlyCostUsd) });
    const policy = parseJsonAttribute(ofType('aws_iam_role_policy').find((r) => (r.config as any).name === 'read-costs-publish-report')!.config.policy) as any;
    expect(policy.Statement.map((st: any) => st.Action)).toEqual([['ce:GetCostAndUsage', 'ce:GetCostForecast'], 'sns:Publish', ['logs:CreateLogStream', 'logs:PutLogEvents']]);
    expect(policy.Statement[1].Resource).toBe('${aws_sns_topic.alerts.arn}');
  });

  test('the seed\'s high-CPU alarm: above 80% for 2 × 5 minutes on the GPU instance, to the notifications topic', () => {
    const a = ofType('aws_cloudwatch_metric_alarm').map((r) => r.config as Record<string, any>).find((x) => x.alarm_name === 'ziggie-gpu-high-cpu')!;
    expect(a).toMatchObject({ namespace: 'AWS/EC2', metric_name: 'CPUUtilization', threshold: 80, period: 300, evaluation_periods: 2, comparison_operator: 'GreaterThanThreshold', dimensions: { InstanceId: '${aws_instance.instance.id}' } });
    expect(a.alarm_actions).toEqual(['${aws_sns_topic.alerts.arn}']);
  });

  test('the dashboard body is Terraform jsonencode of widgets naming the instance, both Lambdas and the alarm', () => {
    const d = one('aws_cloudwatch_dashboard');
    expect(d.dashboard_name).toBe('ziggie-gpu');
    const body = String(d.dashboard_body);
    expect(body).toMatch(/^\$\{jsonencode\(/);
    for (const s of ['CPUUtilization', 'nvidia_smi_utilization_gpu', 'QueueDepth', 'TriggeredRules', 'ziggie-gpu-control', 'ziggie-cost-report', 'aws_instance.instance.id', 'aws_cloudwatch_metric_alarm.high-cpu.arn']) expect(body).toContain(s);
  });
});
