/** An IAM policy document as the simulator reads it (JSON shape, any statement element). */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyDocumentStatement[];
}

export interface PolicyDocumentStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  NotPrincipal?: Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export function asList<T>(value: T | readonly T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];
}

/** IAM's wildcard match (`*` any run, `?` one character), case-sensitive as for ARNs. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  return re.test(value);
}
