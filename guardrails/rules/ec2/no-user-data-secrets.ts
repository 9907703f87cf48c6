import { fail } from '../../lib';
import { decodeUserData, secretKindsIn } from '../../secret-patterns';
import type { GuardrailRule } from '../../types';

export const ec2NoUserDataSecrets: GuardrailRule = {
  id: 'EC2-NO-USER-DATA-SECRETS',
  area: 'ec2',
  why: 'User data is readable by anyone with ec2:DescribeInstanceAttribute and by every process through the metadata service, and it sits in the Terraform state.',
  fix: 'Fetch secrets at boot from Secrets Manager with the instance role; put only their names in user data.',
  check(resource) {
    if (!['aws_instance', 'aws_launch_template'].includes(resource.type)) return 'not-applicable';
    const c = resource.config;
    const texts = [
      typeof c.user_data === 'string' ? c.user_data : '',
      decodeUserData(c.user_data, false),
      decodeUserData(c.user_data_base64, true),
    ];
    const kinds = [...new Set(texts.flatMap((t) => secretKindsIn(t, { assignments: true })))];
    return kinds.length === 0 ? 'compliant' : fail(`user data contains ${kinds.join(', ')}`);
  },
};
