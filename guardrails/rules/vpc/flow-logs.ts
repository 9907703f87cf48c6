import { companions, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const vpcFlowLogs: GuardrailRule = {
  id: 'VPC-FLOW-LOGS',
  area: 'vpc',
  why: 'Flow logs are the only record of who talked to what in the VPC when investigating an incident.',
  fix: 'Add an aws_flow_log for the VPC (traffic_type ALL) into a log group with retention.',
  check(resource, context) {
    if (resource.type !== 'aws_vpc') return 'not-applicable';
    return companions(context, 'aws_flow_log', resource, 'vpc_id').length > 0 ? 'compliant' : fail('no aws_flow_log for this VPC');
  },
};
