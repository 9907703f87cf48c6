/** The Hostinger API token: HOSTINGER_API_TOKEN from the environment, else the Secrets Manager secret. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { explainAwsError } from '../aws/errors';
import { awsErrorCode } from '../../shared/aws-errors';

export class MissingTokenError extends Error {
  constructor(secretId: string, why: string) {
    super(`no Hostinger API token: set HOSTINGER_API_TOKEN or store it with \`npm run ziggie -- secrets put ${secretId}\` (${why})`);
    this.name = 'MissingTokenError';
  }
}

export async function resolveHostingerToken(opts: {
  secretId: string;
  secrets?: Pick<SecretsManagerClient, 'send'>;
  env?: NodeJS.ProcessEnv;
}): Promise<{ token: string; source: 'env' | 'secrets-manager' }> {
  const fromEnv = (opts.env ?? process.env).HOSTINGER_API_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'env' };
  if (!opts.secrets) throw new MissingTokenError(opts.secretId, 'HOSTINGER_API_TOKEN is unset');
  try {
    const out = await opts.secrets.send(new GetSecretValueCommand({ SecretId: opts.secretId }));
    const token = out.SecretString?.trim();
    if (!token) throw new MissingTokenError(opts.secretId, `${opts.secretId} has no value yet`);
    return { token, source: 'secrets-manager' };
  } catch (err) {
    if (err instanceof MissingTokenError) throw err;
    const code = awsErrorCode(err);
    if (code === 'ResourceNotFoundException') throw new MissingTokenError(opts.secretId, `${opts.secretId} has no value yet`);
    throw new MissingTokenError(opts.secretId, explainAwsError(err, `reading ${opts.secretId}`));
  }
}
