/**
 * What a secret looks like when someone pastes one into infrastructure code. Used by SECRETS-NO-PLAINTEXT (every
 * string of every block) and EC2-NO-USER-DATA-SECRETS (decoded user data). A match is described by the kind of
 * secret and where it is, never by its value, so the guardrail report cannot leak what it found.
 */
export const SECRET_VALUE_PATTERNS: ReadonlyArray<{ readonly kind: string; readonly pattern: RegExp }> = [
  { kind: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  { kind: 'an AWS secret access key', pattern: /aws.{0,20}secret.{0,20}[=:]\s*["']?[A-Za-z0-9/+]{40}\b/i },
  { kind: 'an OpenAI/Anthropic-style API key (sk-…)', pattern: /\bsk-(?:ant-|proj-|live-)?[A-Za-z0-9_-]{20,}/ },
  { kind: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { kind: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Hugging Face token', pattern: /\bhf_[A-Za-z0-9]{30,}\b/ },
  { kind: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'a Stripe live key', pattern: /\b[rs]k_live_[0-9A-Za-z]{24,}/ },
  { kind: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { kind: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { kind: 'a URL with a password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/${}]+:[^\s@/${}]{3,}@/i },
];

/** `PASSWORD=hunter2…` in a script: a secret-named variable assigned a literal (not `$(…)` or `${…}`). */
const SECRET_ASSIGNMENT = /\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY)[A-Z0-9_]*\s*[=:]\s*["']?(?![$"'\s])[^\s"'$]{8,}/;

/** Attribute names that hold a secret: a literal string in one is a secret in the code and the state. */
const SECRET_ATTRIBUTE = /(?:^|_)(?:password|passwd|secret|secret_string|secret_binary|secret_key|token|api_key|apikey|private_key|client_secret)$/i;

/** The kinds of secret found in a text (e.g. a script), without the values. */
export function secretKindsIn(text: string, { assignments = false } = {}): string[] {
  const kinds = SECRET_VALUE_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ kind }) => kind);
  if (assignments && SECRET_ASSIGNMENT.test(text)) kinds.push('a secret-named variable with a literal value');
  return kinds;
}

/**
 * Walk a Terraform JSON block and describe every secret-looking string: `attribute.path: <kind>`. Interpolations
 * (`${…}`) in secret-named attributes are references, not values, and pass; cdktf's `//` metadata is skipped.
 */
export function findSecrets(value: unknown, path = ''): string[] {
  if (typeof value === 'string') {
    return secretKindsIn(value).map((kind) => `${path || '(value)'}: looks like ${kind}`);
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecrets(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === '//') continue;
    const at = path ? `${path}.${key}` : key;
    if (SECRET_ATTRIBUTE.test(key) && typeof child === 'string' && child !== '' && !/^\$\{[^}]*\}$/.test(child.trim())) {
      out.push(`${at}: a literal value in a secret-named attribute`);
      continue;
    }
    out.push(...findSecrets(child, at));
  }
  return out;
}

/** Base64 user data decoded (launch templates require it); other text as is. */
export function decodeUserData(value: unknown, base64: boolean): string {
  if (typeof value !== 'string') return '';
  if (!base64 && !/^[A-Za-z0-9+/]+={0,2}$/.test(value.trim())) return value;
  try {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return base64 || /^[\x09\x0a\x0d\x20-\x7e]*$/.test(decoded) ? decoded : value;
  } catch {
    return value;
  }
}
