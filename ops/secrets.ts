/**
 * `ziggie secrets list|put|get`. Terraform creates the secret containers only (no value in state); values go
 * in here, from stdin or a no-echo prompt, never argv. A value is never printed without `--reveal`, never
 * logged and never put in an audit record.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ZiggieConfig } from '../config/schema';
import type { AuditLog } from './audit/audit';
import { awsErrorCode } from '../shared/aws-errors';

export type SecretStatus = 'set' | 'empty' | 'missing' | 'unlisted';

export interface SecretInfo {
  name: string;
  status: SecretStatus;
  lastChanged?: string;
  /** True when the config names it (secrets.names or secrets.hostingerApiToken). */
  configured: boolean;
  description?: string;
}

type Sm = Pick<SecretsManagerClient, 'send'>;

/** Config names, in config order. */
export function configuredSecrets(config: Pick<ZiggieConfig, 'secrets'>): string[] {
  return [...config.secrets.names, config.secrets.hostingerApiToken];
}

/** `openai-api-key` → `ziggie/prod/openai-api-key`; full names pass through; unknown names are refused. */
export function resolveSecretName(config: Pick<ZiggieConfig, 'secrets'>, name: string): string {
  const known = configuredSecrets(config);
  if (known.includes(name)) return name;
  const candidates = known.filter((k) => k === `${config.secrets.prefix}${name}` || k.split('/').pop() === name);
  if (candidates.length === 1) return candidates[0];
  const hint = candidates.length > 1 ? `ambiguous: ${candidates.join(', ')}` : `known: ${known.map((k) => k.split('/').pop()).join(', ')}`;
  throw new Error(`"${name}" is not a configured secret (${hint}); add it to secrets.names in the config first`);
}

/** Every configured secret plus any other under the prefix, with last-changed dates and which are still empty. */
export async function listSecrets(sm: Sm, config: Pick<ZiggieConfig, 'secrets'>): Promise<SecretInfo[]> {
  const root = `${config.secrets.prefix.split('/')[0]}/`;
  const entries: SecretListEntry[] = [];
  let NextToken: string | undefined;
  do {
    const out = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [root] }], MaxResults: 100, NextToken }));
    entries.push(...(out.SecretList ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  const byName = new Map(entries.map((e) => [e.Name as string, e]));
  const configured = configuredSecrets(config);
  const info = (name: string, isConfigured: boolean): SecretInfo => {
    const e = byName.get(name);
    if (!e) return { name, status: 'missing', configured: isConfigured };
    // ListSecrets returns SecretVersionsToStages; no AWSCURRENT version means no value has been put yet.
    const hasValue = Object.values(e.SecretVersionsToStages ?? {}).some((stages) => stages.includes('AWSCURRENT'));
    const lastChanged = e.LastChangedDate ?? e.CreatedDate;
    return {
      name,
      status: hasValue ? (isConfigured ? 'set' : 'unlisted') : 'empty',
      lastChanged: lastChanged ? new Date(lastChanged).toISOString() : undefined,
      configured: isConfigured,
      description: e.Description,
    };
  };
  return [
    ...configured.map((n) => info(n, true)),
    ...entries.map((e) => e.Name as string).filter((n) => !configured.includes(n)).sort().map((n) => info(n, false)),
  ];
}

export async function putSecret(sm: Sm, audit: AuditLog, config: Pick<ZiggieConfig, 'secrets'>, name: string, value: string):
  Promise<{ name: string; versionId?: string }> {
  const id = resolveSecretName(config, name);
  if (value.length === 0) throw new Error('refusing to store an empty value');
  if (Buffer.byteLength(value) > 65536) throw new Error('Secrets Manager values are at most 64 KiB');
  return audit.run('secrets.put', id, async () => {
    try {
      const out = await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
      return { name: id, versionId: out.VersionId };
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') {
        throw new Error(`secret ${id} does not exist yet: deploy the secrets stack first (cdktf deploy secrets); values are never created outside it`);
      }
      throw err;
    }
    // The length only: never the value, not even a hash of it.
  }, (r) => ({ detail: { versionId: r.versionId, bytes: Buffer.byteLength(value) } }));
}

export interface SecretValue { name: string; value?: string; length: number; lastChanged?: string; versionId?: string }

/** The value only when `reveal`; otherwise its length and dates. A reveal is audited. */
export async function getSecret(sm: Sm, audit: AuditLog, config: Pick<ZiggieConfig, 'secrets'>, name: string, reveal: boolean): Promise<SecretValue> {
  const id = resolveSecretName(config, name);
  const read = async (): Promise<SecretValue> => {
    const [value, meta] = await Promise.all([
      sm.send(new GetSecretValueCommand({ SecretId: id })),
      sm.send(new DescribeSecretCommand({ SecretId: id })).catch(() => undefined),
    ]);
    const text = value.SecretString ?? (value.SecretBinary ? Buffer.from(value.SecretBinary).toString('base64') : '');
    return {
      name: id,
      value: reveal ? text : undefined,
      length: text.length,
      lastChanged: meta?.LastChangedDate ? new Date(meta.LastChangedDate).toISOString() : undefined,
      versionId: value.VersionId,
    };
  };
  try {
    return reveal ? await audit.run('secrets.reveal', id, read) : await read();
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') {
      throw new Error(`${id} has no value yet: \`npm run ziggie -- secrets put ${id.split('/').pop()}\``);
    }
    throw err;
  }
}
