import { companions, fail, iamGlob, policyDocumentsOf, type Statement } from '../../lib';
import type { GuardrailRule } from '../../types';

/** Deny, for everyone, every sqs action when aws:SecureTransport is false. */
function deniesPlainHttp(s: Statement): boolean {
  const bool = Object.entries(s.Condition?.Bool ?? {}).find(([k]) => k.toLowerCase() === 'aws:securetransport');
  const everyone = s.Principal === '*' || (typeof s.Principal === 'object' && s.Principal !== null
    && (s.Principal as Record<string, unknown>).AWS === '*');
  return s.Effect === 'Deny' && everyone
    && bool !== undefined && String(bool[1]) === 'false'
    && s.Action.some((a) => iamGlob(a, 'sqs:SendMessage') && iamGlob(a, 'sqs:ReceiveMessage') && iamGlob(a, 'sqs:DeleteMessage'));
}

export const sqsTlsOnly: GuardrailRule = {
  id: 'SQS-TLS-ONLY',
  area: 'sqs',
  why: 'Without a TLS-only policy SQS accepts plain-HTTP requests, exposing message bodies in transit.',
  fix: 'Add an aws_sqs_queue_policy statement denying sqs:* to Principal "*" when aws:SecureTransport is "false".',
  check(resource, context) {
    if (resource.type !== 'aws_sqs_queue') return 'not-applicable';
    const docs = [resource, ...companions(context, 'aws_sqs_queue_policy', resource, 'queue_url', 'url')].flatMap(policyDocumentsOf);
    if (docs.length === 0) return fail('no queue policy');
    return docs.some((d) => d.statements?.some(deniesPlainHttp)) ? 'compliant' : fail('no statement denies aws:SecureTransport=false');
  },
};
