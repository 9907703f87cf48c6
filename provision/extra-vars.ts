/**
 * `-e/--extra-vars`: key=value, JSON, or @file.yaml. A value given on the command line is in the shell history,
 * the process list and npm's banner (`> tsx scripts/provision-vps.ts -e …` echoes argv), so a variable whose name
 * says it holds a secret is refused there, without repeating the value: secrets come from the inventory
 * (`!secret_env NAME`) or a vars file. Values of such variables read from a file are registered for redaction.
 */
import { readFileSync } from 'node:fs';
import { ProvisionInputError } from './errors';
import { registerSecret } from './secret';

/**
 * Names that say "secret": *secret*, *password* or *passwd*, *token*, *credential*, *private*, *key*; but not a name
 * for what only points at or identifies one (`*_id`, `*_file`, `*_path`, `*_fingerprint`: vps_aws_access_key_id,
 * ansible_ssh_private_key_file, ssh_host_key_fingerprint).
 */
export function secretLookingName(name: string): boolean {
  return /secret|passw(or)?d|token|credential|private|key/i.test(name) && !/_(id|file|path|fingerprint)$/i.test(name);
}

function refuseFromArgv(vars: Record<string, unknown>): void {
  const bad = Object.keys(vars).filter(secretLookingName);
  if (!bad.length) return;
  throw new ProvisionInputError(`--extra-vars: ${bad.join(', ')} looks like a secret: refused on the command line (argv ends up in ` +
    'shell history, the process list and npm\'s banner; consider the value exposed and rotate it). Put it in the inventory as ' +
    `\`${bad[0]}: !secret_env ENV_VAR\` (or in an -e @file)`);
}

export function parseExtraVar(v: string, prev: Record<string, unknown> = {}): Record<string, unknown> {
  if (v.startsWith('@')) return { ...prev, ...fromFile(v.slice(1)) };
  if (v.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      // JSON.parse's message quotes the input, which may hold a value
      throw new ProvisionInputError('--extra-vars: invalid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProvisionInputError('--extra-vars: JSON must be an object');
    refuseFromArgv(parsed as Record<string, unknown>);
    return { ...prev, ...(parsed as Record<string, unknown>) };
  }
  const out: Record<string, unknown> = {};
  for (const part of v.split(/\s+/).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new ProvisionInputError(`--extra-vars: expected key=value, got an argument without "=" (${part.length} characters, not shown)`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  refuseFromArgv(out);
  return { ...prev, ...out };
}

function fromFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ProvisionInputError(`--extra-vars: cannot read ${file}`);
  }
  let parsed: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    parsed = (require('yaml') as typeof import('yaml')).parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    throw new ProvisionInputError(`--extra-vars: ${file}: ${(e as Error).message?.split('\n')[0] ?? String(e)}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProvisionInputError(`--extra-vars: ${file} must hold a mapping`);
  for (const [k, val] of Object.entries(parsed as Record<string, unknown>)) {
    if (secretLookingName(k) && typeof val === 'string' && val) registerSecret(val);
  }
  return parsed as Record<string, unknown>;
}
