import { bucketCompanions, fail, iamGlob, policyDocumentsOf, type Statement } from '../../lib';
import type { GuardrailRule } from '../../types';

/** Deny, for everyone, any s3 action on the bucket and its objects when aws:SecureTransport is false. */
function deniesPlainHttp(s: Statement): boolean {
  const bool = Object.entries(s.Condition?.Bool ?? {}).find(([k]) => k.toLowerCase() === 'aws:securetransport');
  return s.Effect === 'Deny'
    && bool !== undefined && String(bool[1]) === 'false'
    && s.Action.some((a) => iamGlob(a, 's3:GetObject') && iamGlob(a, 's3:PutObject'))
    && s.Resource.some((r) => r.endsWith('/*'))
    && s.Resource.some((r) => !r.endsWith('/*'));
}

export const s3TlsOnly: GuardrailRule = {
  id: 'S3-TLS-ONLY',
  area: 's3',
  why: 'Without a TLS-only policy S3 accepts plain-HTTP requests, exposing data and signed requests in transit.',
  fix: 'Add a bucket policy statement denying s3:* on the bucket and bucket/* when aws:SecureTransport is "false".',
  check(resource, context) {
    if (resource.type !== 'aws_s3_bucket') return 'not-applicable';
    const docs = [resource, ...bucketCompanions(resource, context, 'aws_s3_bucket_policy')].flatMap(policyDocumentsOf);
    if (docs.length === 0) return fail('no bucket policy');
    return docs.some((d) => d.statements?.some(deniesPlainHttp)) ? 'compliant' : fail('no statement denies aws:SecureTransport=false');
  },
};
