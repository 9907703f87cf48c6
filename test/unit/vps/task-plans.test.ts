/** The VPS playbook's own tasks decide from fake facts: no host, no root. */
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import type { FileState } from '../../../provision/facts/file';
import type { Plan, Task } from '../../../provision/task';
import { PATHS, secretsDir, vpsServices } from '../../../playbooks/hostinger-vps/render';
import { migrateEnvFiles, pruneServices, requireCredentials, requireDocker, secretsFetched, ufw } from '../../../playbooks/hostinger-vps/tasks';

const config = loadConfig(EXAMPLE_CONFIG);
const host = { name: 'vps', groups: [], vars: {} };
const plan = (t: Task, facts: Record<string, unknown>, check = false): Plan => {
  expect(Object.keys(facts).sort()).toEqual(Object.keys(t.facts).sort());
  return t.plan(facts, { check, host });
};
const st = (path: string, type: FileState['type'], extra: Partial<FileState> = {}): FileState => ({ path, type, ...extra });

test('requireDocker / requireCredentials: fail with what to do; check mode only reports', () => {
  const plugin = '/usr/libexec/docker/cli-plugins/docker-compose';
  const answering = { usable: true, states: [] };
  expect(plan(requireDocker(), { engine: answering, compose: plugin }).msg).toBe(`engine answering, compose plugin ${plugin}`);
  const down = { usable: false, error: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' };
  expect(() => plan(requireDocker(), { engine: down, compose: plugin })).toThrow(/required, and the Docker Engine does not answer \(Cannot connect/);
  expect(() => plan(requireDocker(), { engine: answering, compose: undefined })).toThrow(/required, and the Compose v2 plugin is missing/);
  expect(plan(requireDocker(), { engine: down, compose: undefined }, true).changed).toBe(false);
  const creds = PATHS.credentials;
  expect(plan(requireCredentials(), { st: st(creds, 'file', { owner: 'root', mode: '0600' }) }).changed).toBe(false);
  expect(() => plan(requireCredentials(), { st: st(creds, 'file', { owner: 'root', mode: '0644' }) })).toThrow(`${creds} is file 0644 root`);
});

test('secretsFetched: fetched when the mapping changed, a service\'s secrets directory is missing, or forced; else unchanged', () => {
  // the config's services and the control center (its token store)
  const services = vpsServices(config).filter((c) => Object.keys(c.secrets).length).map((c) => c.name);
  expect(services).toContain('control-center');
  const all = Object.fromEntries(services.map((s) => [`dir:${s}`, st(secretsDir(s), 'directory')]));
  const t = (force = false) => secretsFetched(config, 'digest1', () => force);
  expect(plan(t(), { mark: Buffer.from('digest1\n'), ...all }).changed).toBe(false);
  expect(plan(t(), { mark: null, ...all }).msg).toBe('fetch (not fetched since boot)');
  expect(plan(t(), { mark: Buffer.from('old\n'), ...all }).msg).toBe('fetch (mapping changed)');
  expect(plan(t(), { mark: Buffer.from('digest1\n'), ...all, [`dir:${services[0]}`]: st(secretsDir(services[0]!), 'absent') }).msg).toBe(`fetch (missing for ${services[0]})`);
  expect(plan(t(true), { mark: Buffer.from('digest1\n'), ...all }).msg).toBe('fetch (values migrated)');
});

test('pruneServices: only our own units of services no longer configured', () => {
  const units = ['ziggie-api.service', 'ziggie-old.service', 'ziggie-secrets.service', 'ziggie-backup.service'].map((u) => `${PATHS.units}/${u}`);
  const p = plan(pruneServices(['api']), { units });
  expect(p.msg).toBe('remove old (volumes kept)');
  expect(p.steps).toHaveLength(2);
  expect(plan(pruneServices(['api', 'old']), { units }).changed).toBe(false);
});

test('ufw: rules added and removed, policies and enable; unchanged when all match', () => {
  const rules = ['ufw allow from 10.0.0.0/8 to any port 22 proto tcp', 'ufw allow 443/tcp'];
  const t = ufw(rules, ['10.0.0.0/8']);
  expect(plan(t, { state: { installed: true, rules, active: true, policies: true } }).changed).toBe(false);
  const p = plan(t, { state: { installed: true, rules: ['ufw allow 80/tcp', rules[1]!], active: false, policies: false } });
  expect(p.msg).toBe('add 1 rule(s), remove 1 rule(s), default policies, enable');
  expect(() => plan(t, { state: { installed: false, rules: [], active: false, policies: false } })).toThrow('ufw is not installed');
});

test('migrateEnvFiles: reported without the flag; refused on unknown keys before anything is written', () => {
  const put = () => async () => undefined;
  const off = migrateEnvFiles(config, { enabled: false, put, onMigrated: () => undefined });
  expect(plan(off, { found: new Map([[`${PATHS.root}/.env`, null]]) }).msg).toMatch(/^WARNING: .* still on disk/);
  const on = migrateEnvFiles(config, { enabled: true, put, onMigrated: () => undefined });
  expect(() => plan(on, { found: new Map([[`${PATHS.root}/.env`, 'NOT_A_KNOWN_KEY=1\n']]) })).toThrow(/keys the config does not know: NOT_A_KNOWN_KEY/);
  expect(plan(on, { found: new Map() }).changed).toBe(false);
});
