import { NetworkStack } from '../../../stacks/network';
import { asList, exampleConfig, ref, statements, synth } from './helpers';

describe('network stack', () => {
  const config = exampleConfig();
  const net = synth((app) => new NetworkStack(app, 'network', config));

  test('VPC from config with DNS support and hostnames', () => {
    const vpc = net.one('aws_vpc');
    expect(vpc.config).toMatchObject({ cidr_block: '10.0.0.0/16', enable_dns_support: true, enable_dns_hostnames: true });
  });

  test('one public subnet per configured AZ, AZ names from config (no lookup), no automatic public IPs', () => {
    const subnets = net.of('aws_subnet');
    expect(subnets.map((s) => [s.config.availability_zone, s.config.cidr_block]))
      .toEqual(config.network.availabilityZones.map((az, i) => [az, config.network.publicSubnetCidrs[i]]));
    expect(subnets.every((s) => s.config.map_public_ip_on_launch === false)).toBe(true);
    expect(net.stack.json.data?.aws_availability_zones).toBeUndefined();
  });

  test('internet gateway route, every subnet associated; no NAT gateway and no Elastic IP', () => {
    const igw = net.one('aws_internet_gateway');
    const table = net.one('aws_route_table');
    expect(net.one('aws_route').config).toMatchObject({
      destination_cidr_block: '0.0.0.0/0', gateway_id: ref(igw, 'id'), route_table_id: ref(table, 'id'),
    });
    expect(net.of('aws_route_table_association')).toHaveLength(config.network.availabilityZones.length);
    expect(net.of('aws_nat_gateway')).toHaveLength(0);
    expect(net.of('aws_eip')).toHaveLength(0);
  });

  test('S3 gateway endpoint on the public route table', () => {
    expect(net.one('aws_vpc_endpoint').config).toMatchObject({
      service_name: 'com.amazonaws.eu-north-1.s3',
      vpc_endpoint_type: 'Gateway',
      route_table_ids: [ref(net.one('aws_route_table'), 'id')],
    });
  });

  test('the default security group is managed with no rules at all', () => {
    const sg = net.one('aws_default_security_group');
    expect(sg.config.vpc_id).toBe(ref(net.one('aws_vpc'), 'id'));
    expect(sg.config.ingress).toBeUndefined();
    expect(sg.config.egress).toBeUndefined();
  });

  test('flow logs: all traffic to a log group with the configured retention, through a scoped role', () => {
    const group = net.one('aws_cloudwatch_log_group');
    expect(group.config.retention_in_days).toBe(config.network.flowLogRetentionDays);
    const role = net.one('aws_iam_role');
    expect(net.one('aws_flow_log').config).toMatchObject({
      vpc_id: ref(net.one('aws_vpc'), 'id'), traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs',
      log_destination: ref(group, 'arn'), iam_role_arn: ref(role, 'arn'),
    });
    const [trust] = statements(role.config.assume_role_policy);
    expect(trust).toMatchObject({
      Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': config.accountId } },
    });
    const [write] = statements(net.one('aws_iam_role_policy').config.policy);
    const groupArn = `arn:aws:logs:eu-north-1:${config.accountId}:log-group:${group.config.name}`;
    expect(write.Resource).toEqual([groupArn, `${groupArn}:log-stream:*`]);
    expect(asList(write.Action)).not.toContain('logs:CreateLogGroup');
  });

  test('flow log retention follows the config', () => {
    const changed = exampleConfig();
    changed.network.flowLogRetentionDays = 90;
    const s = synth((app) => new NetworkStack(app, 'network', changed));
    expect(s.one('aws_cloudwatch_log_group').config.retention_in_days).toBe(90);
  });

  test('ComfyUI: ingress only tcp 8188 from the VPS /32, egress only HTTPS', () => {
    const sg = net.construct.comfyuiSecurityGroup;
    const sgRef = `\${aws_security_group.${sg.friendlyUniqueId}.id}`;
    const ingress = net.of('aws_vpc_security_group_ingress_rule').filter((r) => r.config.security_group_id === sgRef);
    expect(ingress.map((r) => r.config)).toEqual([expect.objectContaining({
      ip_protocol: 'tcp', from_port: 8188, to_port: 8188, cidr_ipv4: '203.0.113.10/32',
    })]);
    const egress = net.of('aws_vpc_security_group_egress_rule').filter((r) => r.config.security_group_id === sgRef);
    expect(egress.map((r) => [r.config.ip_protocol, r.config.from_port, r.config.to_port])).toEqual([['tcp', 443, 443]]);
  });

  test('the ComfyUI port and the VPS address come from the config', () => {
    const changed = exampleConfig();
    changed.vps.publicIp = '198.51.100.77';
    changed.gpu.comfyuiPort = 8190;
    const s = synth((app) => new NetworkStack(app, 'network', changed));
    expect(s.of('aws_vpc_security_group_ingress_rule').map((r) => r.config))
      .toContainEqual(expect.objectContaining({ from_port: 8190, to_port: 8190, cidr_ipv4: '198.51.100.77/32' }));
  });

  test('no ingress from 0.0.0.0/0 or ::/0 anywhere; SSH only from the operator allowlist', () => {
    const ingress = net.of('aws_vpc_security_group_ingress_rule');
    expect(ingress.filter((r) => ['0.0.0.0/0', '::/0'].includes(String(r.config.cidr_ipv4 ?? r.config.cidr_ipv6)))).toEqual([]);
    expect(net.of('aws_security_group').flatMap((sg) => asList(sg.config.ingress as unknown[]))).toEqual([]);
    const ssh = ingress.filter((r) => r.config.from_port === 22);
    expect(ssh.map((r) => r.config.cidr_ipv4)).toEqual(config.vps.sshAllowlist);
  });

  test('exports what the GPU stack needs', () => {
    expect(net.construct.vpc).toBeDefined();
    expect(net.construct.publicSubnets).toHaveLength(2);
    expect(net.construct.comfyuiSecurityGroup).toBeDefined();
  });

  test('S3 backend with a lock file and the Ziggie tags on the provider', () => {
    expect(net.stack.json.terraform?.backend?.s3).toMatchObject({
      bucket: config.state.bucket, key: `${config.state.keyPrefix}/network.tfstate`, use_lockfile: true, encrypt: true,
    });
    expect(net.stack.json.terraform?.backend?.s3).not.toHaveProperty('dynamodb_table');
    expect(net.stack.json.provider?.aws[0]).toMatchObject({ default_tags: [{ tags: config.tags }], allowed_account_ids: [config.accountId] });
  });
});
