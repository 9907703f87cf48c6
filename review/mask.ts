/**
 * Values that must never reach a PR comment. A value is masked when any key on its path looks like it holds a
 * credential (password, secret, token, private key, API key, credentials, connection string), unless the key
 * names an identifier rather than a value (`secret_id`, `kms_key_arn`, `token_name`, …), or when Terraform marks
 * it sensitive (`after_sensitive`, a `sensitive` output).
 */
const SENSITIVE_KEY = /(password|passwd|passphrase|secret|token|private[_-]?key|api[_-]?key|credential|connection[_-]?string|auth[_-]?string)/i;
const IDENTIFIER_KEY = /(_|^)(id|ids|arn|arns|name|names|prefix|count|type|version|version_stage|version_stages|recovery_window_in_days|rotation_enabled|rotation_rules)$/i;

export const MASK = '(sensitive)';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) && !IDENTIFIER_KEY.test(key);
}

/** `environment[0].variables.API_TOKEN` → true. Array indices are skipped. */
export function isSensitivePath(path: string): boolean {
  return splitPath(path).some(isSensitiveKey);
}

export function splitPath(path: string): string[] {
  return path.split(/\.|\[\d+\]/).filter((s) => s.length > 0);
}

/** A deep copy with every sensitive-keyed value replaced by the mask (for `--json`). */
export function maskDeep(value: unknown, sensitive = false): unknown {
  if (sensitive) return value === null || value === undefined ? value : MASK;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, isSensitiveKey(k))]));
  }
  return value;
}
