import { blocks, companions, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const vpcDefaultSecurityGroupStripped: GuardrailRule = {
  id: 'VPC-DEFAULT-SG-STRIPPED',
  area: 'vpc',
  why: 'AWS attaches the default security group to anything launched without one; its default rules allow all egress and intra-group traffic.',
  fix: 'Manage it with an aws_default_security_group that has no ingress and no egress blocks.',
  check(resource, context) {
    if (resource.type === 'aws_default_security_group') {
      const rules = blocks(resource.config.ingress).length + blocks(resource.config.egress).length;
      return rules === 0 ? 'compliant' : fail(`the default security group has ${rules} rule(s)`);
    }
    if (resource.type !== 'aws_vpc') return 'not-applicable';
    return companions(context, 'aws_default_security_group', resource, 'vpc_id').length > 0
      ? 'compliant' : fail('the VPC\'s default security group is not managed (its default rules stay)');
  },
};
