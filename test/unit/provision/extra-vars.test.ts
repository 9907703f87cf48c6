/**
 * -e/--extra-vars on a command line: secret-looking variables are refused without their value being repeated
 * (npm echoes argv in its banner already), with a pointer to !secret_env; from a file they are redacted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlaybook } from '../../../provision';
import { runPlaybookCli } from '../../../provision/cli';
import { parseExtraVar, secretLookingName } from '../../../provision/extra-vars';
import { redact } from '../../../provision/secret';
import { tempDir } from './helpers';

const VALUE = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

async function stderrOf(...args: string[]): Promise<{ code: number; err: string }> {
  const d = tempDir();
  const inv = join(d, 'inv.yml');
  writeFileSync(inv, 'all:\n  vars: { ansible_ssh_private_key_file: /k }\n  hosts:\n    a:\n');
  const err: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await runPlaybookCli(definePlaybook({ name: 'p', tasks: () => [] }), ['node', 'pb', '-i', inv, '--list-hosts', ...args]);
    return { code, err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('--extra-vars and secrets', () => {
  test.each([
    ['key=value', [`vps_aws_secret_access_key=${VALUE}`], 'vps_aws_secret_access_key'],
    ['among others', [`vps_ssh_port=2222 db_password=${VALUE}`], 'db_password'],
    ['JSON', [`{"api_token": "${VALUE}"}`], 'api_token'],
    ['a *key* name', [`OPENAI_API_KEY=${VALUE}`], 'OPENAI_API_KEY'],
  ])('refused from argv (%s): exit 2, one line, the name and !secret_env, never the value', async (_, args, name) => {
    const r = await stderrOf('-e', ...args);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`--extra-vars: ${name} looks like a secret`);
    expect(r.err).toContain('!secret_env');
    expect(r.err).not.toContain(VALUE);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test('invalid JSON and a missing "=" do not echo the argument either', async () => {
    for (const arg of [`{"db_password": ${VALUE}}`, VALUE]) {
      const r = await stderrOf('-e', arg);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: --extra-vars: /);
      expect(r.err).not.toContain(VALUE);
    }
  });

  test('names that only identify or point at a secret are fine on the command line', () => {
    for (const n of ['vps_aws_access_key_id', 'ansible_ssh_private_key_file', 'ssh_host_key_fingerprint', 'vps_ssh_port', 'vps_backup_destination']) {
      expect([n, secretLookingName(n)]).toEqual([n, false]);
    }
    expect(parseExtraVar('vps_aws_access_key_id=AKIAEXAMPLE vps_ssh_port=2222')).toEqual({ vps_aws_access_key_id: 'AKIAEXAMPLE', vps_ssh_port: '2222' });
  });

  test('from an -e @file a secret-looking value is accepted and redacted from then on', () => {
    const f = join(tempDir(), 'vars.yml');
    const fileValue = `${VALUE}-from-file`;
    writeFileSync(f, `db_password: ${fileValue}\nport: 1\n`);
    expect(parseExtraVar(`@${f}`)).toEqual({ db_password: fileValue, port: 1 });
    expect(redact(`x ${fileValue} y`)).not.toContain(fileValue);
  });
});
