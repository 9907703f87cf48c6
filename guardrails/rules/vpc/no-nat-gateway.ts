import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const vpcNoNatGateway: GuardrailRule = {
  id: 'VPC-NO-NAT-GATEWAY',
  area: 'vpc',
  why: 'A NAT gateway costs about 32 USD a month plus 0.045 USD/GB even while the GPU instance is stopped.',
  fix: 'Use public subnets with an internet gateway and an S3 gateway endpoint, as stacks/network.ts does.',
  check(resource) {
    return resource.type === 'aws_nat_gateway' ? fail('a NAT gateway') : 'not-applicable';
  },
};
