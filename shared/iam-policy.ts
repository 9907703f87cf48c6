/**
 * IAM policy documents as plain JSON strings in the synthesized Terraform, not `aws_iam_policy_document` data
 * sources: a literal document can be read by the guardrails and the PR review without running Terraform.
 */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export function policyDocument(statements: PolicyStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Who may assume a role: an AWS service principal, optionally pinned to this account. */
export function assumeRolePolicy(service: string, accountId?: string): string {
  return policyDocument([
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      ...(accountId ? { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } } : {}),
    },
  ]);
}
