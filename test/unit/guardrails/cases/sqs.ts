import { sqsEncryption } from '../../../../guardrails/rules/sqs/encryption';
import { sqsTlsOnly } from '../../../../guardrails/rules/sqs/tls-only';
import { patch, policy, type Resources, type RuleCases, without } from '../fixtures';

const TLS_DENY = {
  Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sqs:*',
  Resource: '${aws_sqs_queue.q.arn}', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

/** A queue as stacks/gpu.ts synthesizes it: SQS-managed SSE and a TLS-only queue policy. */
const secureQueue: Resources = {
  aws_sqs_queue: { q: { name: 'ziggie-comfyui-jobs', sqs_managed_sse_enabled: true } },
  aws_sqs_queue_policy: { p: { queue_url: '${aws_sqs_queue.q.url}', policy: policy(TLS_DENY) } },
};
const target = 'aws_sqs_queue.q';

export const sqsCases: RuleCases[] = [
  {
    rule: sqsEncryption,
    failing: [
      { name: 'no encryption setting', resources: patch(secureQueue, 'aws_sqs_queue', 'q', { sqs_managed_sse_enabled: undefined }), target },
      { name: 'SSE switched off', resources: patch(secureQueue, 'aws_sqs_queue', 'q', { sqs_managed_sse_enabled: false }), target },
    ],
    passing: [
      { name: 'SQS-managed SSE', resources: secureQueue, target },
      { name: 'a KMS key', resources: patch(secureQueue, 'aws_sqs_queue', 'q', { sqs_managed_sse_enabled: undefined, kms_master_key_id: 'alias/ziggie' }), target },
    ],
  },
  {
    rule: sqsTlsOnly,
    failing: [
      { name: 'no queue policy', resources: without(secureQueue, 'aws_sqs_queue_policy'), target },
      { name: 'the deny covers SendMessage only', resources: patch(secureQueue, 'aws_sqs_queue_policy', 'p', { policy: policy({ ...TLS_DENY, Action: 'sqs:SendMessage' }) }), target },
      { name: 'the deny is for one role, not everyone', resources: patch(secureQueue, 'aws_sqs_queue_policy', 'p', { policy: policy({ ...TLS_DENY, Principal: { AWS: 'arn:aws:iam::111122223333:role/x' } }) }), target },
      { name: 'a policy for another queue', resources: patch(secureQueue, 'aws_sqs_queue_policy', 'p', { queue_url: '${aws_sqs_queue.other.url}' }), target },
    ],
    passing: [
      { name: 'deny sqs:* without TLS', resources: secureQueue, target },
      { name: 'the deny inline on the queue', resources: { aws_sqs_queue: { q: { name: 'x', sqs_managed_sse_enabled: true, policy: policy(TLS_DENY) } } }, target },
    ],
  },
];
