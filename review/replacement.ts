import { pathWithin } from './attributes';

/**
 * Attributes whose change makes Terraform (hashicorp/aws 5.x) replace the resource, or — marked `disruptive` —
 * update it in a way that interrupts it (an instance type change stops and starts the instance). A synth diff
 * cannot ask the provider, so this table is the estimate; a real plan's `replace_paths` is the truth.
 */
const FORCE_NEW: Record<string, readonly string[]> = {
  aws_instance: ['ami', 'availability_zone', 'subnet_id', 'key_name', 'placement_group', 'tenancy', 'private_ip',
    'instance_market_options', 'ebs_block_device', 'ephemeral_block_device', 'network_interface',
    'root_block_device.encrypted', 'root_block_device.kms_key_id', 'launch_template.id', 'launch_template.name'],
  aws_spot_instance_request: ['ami', 'instance_type', 'availability_zone', 'subnet_id', 'spot_type', 'spot_price'],
  aws_s3_bucket: ['bucket', 'bucket_prefix', 'object_lock_enabled'],
  aws_s3_bucket_public_access_block: ['bucket'],
  aws_s3_bucket_policy: ['bucket'],
  aws_s3_bucket_ownership_controls: ['bucket'],
  aws_s3_bucket_versioning: ['bucket'],
  aws_secretsmanager_secret: ['name', 'name_prefix'],
  aws_vpc: ['cidr_block', 'instance_tenancy'],
  aws_subnet: ['cidr_block', 'availability_zone', 'vpc_id'],
  aws_security_group: ['name', 'name_prefix', 'description', 'vpc_id'],
  aws_vpc_security_group_ingress_rule: ['security_group_id'],
  aws_security_group_rule: ['type', 'from_port', 'to_port', 'protocol', 'cidr_blocks', 'ipv6_cidr_blocks', 'security_group_id', 'source_security_group_id', 'self'],
  aws_iam_role: ['name', 'name_prefix', 'path'],
  aws_iam_policy: ['name', 'name_prefix', 'path', 'description'],
  aws_iam_instance_profile: ['name', 'name_prefix', 'path'],
  aws_iam_role_policy: ['name', 'role'],
  aws_iam_role_policy_attachment: ['role', 'policy_arn'],
  aws_cloudwatch_log_group: ['name', 'name_prefix'],
  aws_cloudwatch_metric_alarm: ['alarm_name'],
  aws_cloudwatch_composite_alarm: ['alarm_name'],
  aws_cloudwatch_event_rule: ['name', 'name_prefix', 'event_bus_name'],
  aws_lambda_function: ['function_name'],
  aws_sns_topic: ['name', 'name_prefix', 'fifo_topic'],
  aws_cloudtrail: ['name'],
  aws_budgets_budget: ['name', 'name_prefix', 'account_id'],
  aws_ebs_volume: ['availability_zone', 'snapshot_id', 'encrypted', 'kms_key_id'],
  aws_eip: ['domain'],
  aws_ssm_parameter: ['name'],
  aws_kms_key: ['customer_master_key_spec', 'key_usage'],
  aws_kms_alias: ['name'],
  aws_flow_log: ['vpc_id', 'subnet_id', 'log_destination', 'log_destination_type', 'traffic_type', 'iam_role_arn'],
  aws_internet_gateway: [],
  aws_route_table: ['vpc_id'],
  aws_launch_template: ['name', 'name_prefix'],
};

/** Updated in place, but the change interrupts the resource or what uses it. */
const DISRUPTIVE: Record<string, Record<string, string>> = {
  aws_instance: { instance_type: 'the instance is stopped and started (a Spot instance may not get capacity back)', user_data: 'takes effect only on a stop/start, or replaces the instance with user_data_replace_on_change' },
  aws_launch_template: { image_id: 'new launch-template version: the instance is replaced if it follows $Latest', instance_type: 'new launch-template version: the instance is replaced if it follows $Latest' },
};

/** cdktf writes a single nested block as an object, Terraform as a one-element list: compare without `[0]`. */
const norm = (p: string) => p.replace(/\[0\]/g, '');

export function forcesReplacement(type: string, path: string): boolean {
  return (FORCE_NEW[type] ?? []).some((p) => pathWithin(norm(path), norm(p)));
}

export function disruption(type: string, path: string): string | undefined {
  const table = DISRUPTIVE[type] ?? {};
  const key = Object.keys(table).find((p) => pathWithin(norm(path), p));
  return key ? table[key] : undefined;
}

/** Resources whose loss loses data or history, so their deletion or replacement is high risk. */
export const STATEFUL_TYPES = new Set([
  'aws_s3_bucket', 'aws_secretsmanager_secret', 'aws_kms_key', 'aws_cloudwatch_log_group', 'aws_ebs_volume',
  'aws_db_instance', 'aws_rds_cluster', 'aws_dynamodb_table', 'aws_cloudtrail', 'aws_instance', 'aws_efs_file_system',
  'aws_ebs_snapshot', 'aws_ami', 'aws_ssm_parameter',
]);
