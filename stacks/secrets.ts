import type { Construct } from 'constructs';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import type { ZiggieConfig } from '../config/schema';
import { constructId } from '../shared/names';
import { ZiggieStack } from './ziggie-stack';

/**
 * The secret containers: names, descriptions, recovery window, tags. Never a value: there is no
 * aws_secretsmanager_secret_version here, so no secret reaches the Terraform plan or state. Values are put with
 * `ziggie secrets put NAME` (read from stdin). Guardrail SECRETS-NO-SECRET-VERSION keeps it that way.
 */
export class SecretsStack extends ZiggieStack {
  /** By name, e.g. `secrets.get('ziggie/prod/jwt-secret')`. */
  readonly secrets = new Map<string, SecretsmanagerSecret>();

  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config });
    for (const name of [...config.secrets.names, config.secrets.hostingerApiToken]) {
      this.secrets.set(name, new SecretsmanagerSecret(this, constructId(name), {
        name,
        description: `${config.project} ${name}: value set out of band (ziggie secrets put), never by Terraform`,
        recoveryWindowInDays: config.secrets.recoveryWindowDays,
      }));
    }
  }
}
