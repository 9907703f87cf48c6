/** Option schemas: one clear line (exit 2) naming the module, the task and the option; defaults applied. */
import { ProvisionInputError } from '../../../provision/errors';
import { secret } from '../../../provision/secret';
import { apt } from '../../../provision/tasks/apt';
import { command } from '../../../provision/tasks/command';
import { compose } from '../../../provision/tasks/compose';
import { copy } from '../../../provision/tasks/copy';
import { download } from '../../../provision/tasks/download';
import { file } from '../../../provision/tasks/file';
import { lineInFile } from '../../../provision/tasks/lineinfile';
import { systemd } from '../../../provision/tasks/systemd';
import { template } from '../../../provision/tasks/template';
import { cron } from '../../../provision/tasks/timer';
import { user } from '../../../provision/tasks/user';

const bad = (f: () => unknown): ProvisionInputError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProvisionInputError);
    expect((e as ProvisionInputError).exitCode).toBe(2);
    expect((e as Error).message).not.toContain('\n');
    return e as ProvisionInputError;
  }
  throw new Error('expected the options to be refused');
};

describe('option schemas', () => {
  test('mutually exclusive and exactly-one options', () => {
    expect(bad(() => copy({ dest: '/x', content: 'a', src: 'b' })).message).toBe('copy: option content / src: mutually exclusive: give exactly one of them');
    expect(bad(() => copy({ name: 'install x', dest: '/x' })).message).toBe('copy (task "install x"): option content / src: give exactly one of them');
    expect(bad(() => template({ dest: '/x', data: {} })).message).toBe('template: option render / src: give exactly one of them');
    expect(bad(() => lineInFile({ path: '/x', line: 'a', insertAfter: 'EOF', insertBefore: 'BOF' })).message).toBe('lineInFile: option insertAfter and insertBefore: mutually exclusive: give one of them');
  });

  test('required when another option has a value', () => {
    expect(bad(() => file({ path: '/x', state: 'link' })).message).toBe('file: option src: required when state is "link"');
    expect(bad(() => lineInFile({ path: '/x' })).message).toBe('lineInFile: option line: required when state is "present"');
    expect(bad(() => compose({ project: 'web' })).message).toBe('compose: option compose: required when state is "present"');
  });

  test('types, choices, formats and unknown options', () => {
    expect(bad(() => file({ path: 'relative' })).message).toBe('file: option path: expected an absolute path');
    expect(bad(() => copy({ dest: '/x', content: 'a', mode: '0999' })).message).toMatch(/^copy: option mode: expected octal such as "0644"/);
    expect(bad(() => apt({ packages: 'curl', state: 'installed' as never })).message).toBe('apt: option state: expected one of "present", "absent", "latest"');
    expect(bad(() => apt({ packages: 'Bad_Name' })).message).toBe('apt: option packages: invalid package name "Bad_Name"');
    expect(bad(() => systemd({ unit: 'app' })).message).toBe('systemd: option unit: expected a unit name with its suffix, e.g. app.service');
    expect(bad(() => download({ url: 'https://x/y', dest: '/y', sha256: 'abc' })).message).toBe('download: option sha256: expected 64 hex characters');
    expect(bad(() => user({ user: 'app', shel: '/bin/sh' } as never)).message).toBe('user: option shel: unknown option');
    expect(bad(() => cron({ cronName: 'a.b', schedule: '@daily', command: 'true' })).message).toMatch(/^cron: option cronName: expected \[A-Za-z0-9_-\]/);
    expect(bad(() => command({ cmd: [], timeout: -1 })).message).toMatch(/^command: option (cmd|timeout): /);
    expect(bad(() => copy({ dest: '/x', content: 'a', when: 'yes' as never })).message).toBe('copy: option when: expected a boolean or a function');
  });

  test('a secret is accepted where a value may be secret, and never appears in an error', () => {
    expect(() => copy({ dest: '/x', content: secret('s3cr3t-value') })).not.toThrow();
    expect(bad(() => copy({ dest: 'rel', content: secret('s3cr3t-value') })).message).not.toContain('s3cr3t');
  });

  test('defaults are applied (Ansible argument_spec style)', () => {
    const t = apt({ packages: 'curl' });
    expect(t.name).toBe('apt present curl');
    expect(Object.keys(t.facts)).toEqual(['cache', 'pkg:curl']);
    expect(systemd({ unit: 'a.service', content: 'x' }).facts.file!.arg).toBe('/etc/systemd/system/a.service');
  });
});

test('a bad option fails the run before any host is contacted', async () => {
  const { definePlaybook } = require('../../../provision/playbook') as typeof import('../../../provision/playbook');
  const { runPlaybook } = require('../../../provision/runner') as typeof import('../../../provision/runner');
  const { MemoryOutput } = require('../../../provision/output') as typeof import('../../../provision/output');
  const { inventoryOf } = require('./helpers') as typeof import('./helpers');
  let connected = false;
  const pb = definePlaybook({ name: 'p', tasks: () => [copy({ name: 'app config', dest: '/etc/app.conf', content: 'a', src: 'app.conf' })] });
  await expect(
    runPlaybook(pb, inventoryOf(['x']), { output: new MemoryOutput(), connect: async () => ((connected = true), Promise.reject(new Error('no'))) }),
  ).rejects.toThrow(new ProvisionInputError('copy (task "app config"): option content / src: mutually exclusive: give exactly one of them'));
  expect(connected).toBe(false);
});
