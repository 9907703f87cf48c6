import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoAccessKey: GuardrailRule = {
  id: 'IAM-NO-ACCESS-KEY',
  area: 'iam',
  why: 'Terraform stores an access key\'s secret (and a login profile\'s password) in plain text in the state.',
  fix: 'Create the key out of band (aws iam create-access-key) and store it where it is used, or use a role.',
  check(resource) {
    if (resource.type === 'aws_iam_access_key') return fail('an IAM access key created by Terraform');
    if (resource.type === 'aws_iam_user_login_profile') return fail('a console password created by Terraform');
    return 'not-applicable';
  },
};
