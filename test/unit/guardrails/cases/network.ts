import { ec2EbsEncrypted } from '../../../../guardrails/rules/ec2/ebs-encrypted';
import { ec2Imdsv2Required } from '../../../../guardrails/rules/ec2/imdsv2-required';
import { ec2NoUserDataSecrets } from '../../../../guardrails/rules/ec2/no-user-data-secrets';
import { sgNoAllPortsIngress } from '../../../../guardrails/rules/security-groups/no-all-ports-ingress';
import { sgNoPublicAdminPorts } from '../../../../guardrails/rules/security-groups/no-public-admin-ports';
import { sgNoWorldIngress } from '../../../../guardrails/rules/security-groups/no-world-ingress';
import { vpcDefaultSecurityGroupStripped } from '../../../../guardrails/rules/vpc/default-security-group-stripped';
import { vpcFlowLogs } from '../../../../guardrails/rules/vpc/flow-logs';
import { vpcNoNatGateway } from '../../../../guardrails/rules/vpc/no-nat-gateway';
import type { RuleCases } from '../fixtures';

const SG = '${aws_security_group.sg.id}';
const ingressRule = (extra: Record<string, unknown>) => ({ aws_vpc_security_group_ingress_rule: { r: { security_group_id: SG, ip_protocol: 'tcp', from_port: 8188, to_port: 8188, cidr_ipv4: '203.0.113.10/32', ...extra } } });
const inline = (extra: Record<string, unknown>) => ({ aws_security_group: { sg: { ingress: [{ protocol: 'tcp', from_port: 443, to_port: 443, cidr_blocks: ['203.0.113.10/32'], ...extra }] } } });
const legacyRule = (extra: Record<string, unknown>) => ({ aws_security_group_rule: { r: { type: 'ingress', security_group_id: SG, protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['198.51.100.0/24'], ...extra } } });
const b64 = (text: string) => Buffer.from(text).toString('base64');
const lt = (extra: Record<string, unknown>) => ({ aws_launch_template: { lt: { image_id: 'ami-0a1b2c3d4e5f60718', ...extra } } });
const encryptedRoot = { block_device_mappings: [{ device_name: '/dev/sda1', ebs: { encrypted: 'true', volume_size: 100 } }] };

export const networkCases: RuleCases[] = [
  {
    rule: sgNoWorldIngress,
    failing: [
      { name: 'ingress rule from 0.0.0.0/0', resources: ingressRule({ cidr_ipv4: '0.0.0.0/0' }) },
      { name: 'ingress rule from ::/0', resources: ingressRule({ cidr_ipv4: undefined, cidr_ipv6: '::/0' }) },
      { name: 'inline ingress from the world', resources: inline({ cidr_blocks: ['0.0.0.0/0'] }) },
      { name: 'aws_security_group_rule from the world', resources: legacyRule({ cidr_blocks: ['0.0.0.0/0'] }) },
    ],
    passing: [
      { name: 'from the VPS /32', resources: ingressRule({}) },
      { name: 'egress to the world is not ingress', resources: { aws_security_group_rule: { r: { type: 'egress', protocol: 'tcp', from_port: 443, to_port: 443, cidr_blocks: ['0.0.0.0/0'] } } }, expect: 'not-applicable' },
    ],
  },
  {
    rule: sgNoAllPortsIngress,
    failing: [
      { name: 'protocol -1', resources: ingressRule({ ip_protocol: '-1', from_port: undefined, to_port: undefined }) },
      { name: 'tcp 0-65535', resources: inline({ from_port: 0, to_port: 65535 }) },
    ],
    passing: [{ name: 'one port', resources: ingressRule({}) }],
  },
  {
    rule: sgNoPublicAdminPorts,
    failing: [
      { name: 'SSH from a /8', resources: legacyRule({ cidr_blocks: ['10.0.0.0/8'] }) },
      { name: 'RDP from the world', resources: ingressRule({ from_port: 3389, to_port: 3389, cidr_ipv4: '0.0.0.0/0' }) },
      { name: 'all protocols from a /16 includes SSH', resources: ingressRule({ ip_protocol: '-1', cidr_ipv4: '198.51.0.0/16' }) },
    ],
    passing: [
      { name: 'SSH from an operator /24', resources: legacyRule({}) },
      { name: 'ComfyUI port from a /16 is not an admin port', resources: ingressRule({ cidr_ipv4: '198.51.0.0/16' }) },
    ],
  },
  {
    rule: vpcFlowLogs,
    failing: [{ name: 'VPC without flow log', resources: { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } } } }],
    passing: [{ name: 'flow log on the VPC', resources: { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } }, aws_flow_log: { f: { vpc_id: '${aws_vpc.v.id}', traffic_type: 'ALL' } } } }],
  },
  {
    rule: vpcNoNatGateway,
    failing: [{ name: 'a NAT gateway', resources: { aws_nat_gateway: { n: { subnet_id: 'subnet-1' } } } }],
    passing: [{ name: 'an internet gateway instead', resources: { aws_internet_gateway: { i: { vpc_id: 'vpc-1' } } }, expect: 'not-applicable' }],
  },
  {
    rule: vpcDefaultSecurityGroupStripped,
    failing: [
      { name: 'VPC whose default SG is not managed', resources: { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } } } },
      { name: 'default SG with an egress rule', resources: { aws_default_security_group: { d: { vpc_id: '${aws_vpc.v.id}', egress: [{ protocol: '-1', from_port: 0, to_port: 0, cidr_blocks: ['0.0.0.0/0'] }] } } } },
    ],
    passing: [
      { name: 'stripped default SG', resources: { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } }, aws_default_security_group: { d: { vpc_id: '${aws_vpc.v.id}' } } } },
      { name: 'the default SG itself with no rules', resources: { aws_default_security_group: { d: { vpc_id: '${aws_vpc.v.id}' } } } },
    ],
  },
  {
    rule: ec2Imdsv2Required,
    failing: [
      { name: 'launch template without metadata options', resources: lt({}) },
      { name: 'http_tokens optional', resources: lt({ metadata_options: { http_tokens: 'optional' } }) },
      { name: 'instance from a template without IMDSv2', resources: { ...lt({}), aws_instance: { i: { launch_template: { id: '${aws_launch_template.lt.id}' } } } }, target: 'aws_instance.i' },
    ],
    passing: [
      { name: 'http_tokens required', resources: lt({ metadata_options: { http_tokens: 'required' } }) },
      { name: 'instance inherits its template\'s IMDSv2', resources: { ...lt({ metadata_options: { http_tokens: 'required' } }), aws_instance: { i: { launch_template: { id: '${aws_launch_template.lt.id}' } } } }, target: 'aws_instance.i' },
    ],
  },
  {
    rule: ec2EbsEncrypted,
    failing: [
      { name: 'template without block devices', resources: lt({}) },
      { name: 'unencrypted root', resources: lt({ block_device_mappings: [{ device_name: '/dev/sda1', ebs: { encrypted: 'false' } }] }) },
      { name: 'instance with an unencrypted root volume', resources: { aws_instance: { i: { ami: 'ami-1', root_block_device: { volume_size: 50 } } } } },
      { name: 'unencrypted EBS volume', resources: { aws_ebs_volume: { v: { availability_zone: 'eu-north-1a', size: 10 } } } },
    ],
    passing: [
      { name: 'encrypted root in the template', resources: lt(encryptedRoot) },
      { name: 'instance inherits the template\'s encrypted root', resources: { ...lt(encryptedRoot), aws_instance: { i: { launch_template: { id: '${aws_launch_template.lt.id}' } } } }, target: 'aws_instance.i' },
      { name: 'account-wide EBS encryption by default', resources: { ...lt({}), aws_ebs_encryption_by_default: { e: { enabled: true } } } },
    ],
  },
  {
    rule: ec2NoUserDataSecrets,
    failing: [
      { name: 'OpenAI key in base64 user data', resources: lt({ user_data: b64('#!/bin/bash\nexport OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345\n') }) },
      { name: 'password assigned in plain user data', resources: { aws_instance: { i: { ami: 'ami-1', user_data: '#!/bin/bash\nDB_PASSWORD=hunter2hunter2 ./start\n' } } } },
    ],
    passing: [
      { name: 'secret fetched at boot by name', resources: lt({ user_data: b64('#!/bin/bash\nREDIS_PASSWORD="$(aws secretsmanager get-secret-value --secret-id ziggie/prod/redis-password --query SecretString --output text)"\n') }) },
      { name: 'no user data', resources: lt({}) },
    ],
  },
];
