import { SecretsStack } from '../../../stacks/secrets';
import { exampleConfig, synth } from './helpers';

describe('secrets stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new SecretsStack(app, 'secrets', config));

  test('the eight ziggie/prod/* secrets and the Hostinger token, with the configured recovery window', () => {
    const secrets = s.of('aws_secretsmanager_secret');
    expect(secrets.map((r) => r.config.name).sort()).toEqual([...config.secrets.names, config.secrets.hostingerApiToken].sort());
    expect(secrets.filter((r) => String(r.config.name).startsWith('ziggie/prod/'))).toHaveLength(8);
    expect(secrets.every((r) => r.config.recovery_window_in_days === config.secrets.recoveryWindowDays)).toBe(true);
  });

  test('containers only: no secret version, no value, no rotation lambda, no output', () => {
    expect(s.resources.map((r) => r.type)).toEqual(Array(9).fill('aws_secretsmanager_secret'));
    const text = JSON.stringify(s.stack.json);
    expect(text).not.toMatch(/secret_string|secret_binary|aws_secretsmanager_secret_version/);
    expect(s.stack.json.output).toBeUndefined();
    expect(s.stack.json.variable).toBeUndefined();
  });

  test('tagged through the provider default tags', () => {
    expect(s.stack.json.provider?.aws[0]).toMatchObject({ default_tags: [{ tags: expect.objectContaining({ Project: 'Ziggie' }) }] });
  });

  test('recovery window follows the config', () => {
    const changed = exampleConfig();
    changed.secrets.recoveryWindowDays = 30;
    const c = synth((app) => new SecretsStack(app, 'secrets', changed));
    expect(new Set(c.of('aws_secretsmanager_secret').map((r) => r.config.recovery_window_in_days))).toEqual(new Set([30]));
  });
});
