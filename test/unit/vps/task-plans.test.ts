/** The VPS playbook's own tasks decide from fake facts: no host, no root. */
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import type { FileState } from '../../../provision/facts/file';
import type { Plan, Task, TaskContext } from '../../../provision/task';
import { PATHS, secretsDir, ufwCommand, ufwRules, ufwTuples, vpsServices } from '../../../playbooks/hostinger-vps/render';
import { migrateEnvFiles, pruneServices, requireCredentials, requireDocker, secretsFetched, ufw, type UfwState } from '../../../playbooks/hostinger-vps/tasks';

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

describe('ufw', () => {
  const rules = ufwRules(config, 22);
  // /etc/ufw/user.rules and user6.rules on the Debian test host after `ufw allow from 198.51.100.0/24 to any port 22
  // proto tcp comment 'ziggie ssh allowlist'`, `ufw allow 80/tcp comment 'ziggie http'` and the same for 443
  const onHost = [
    'allow tcp 22 0.0.0.0/0 any 198.51.100.0/24 in comment=7a69676769652073736820616c6c6f776c697374',
    'allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in comment=7a69676769652068747470',
    'allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in comment=7a6967676965206874747073',
    'allow tcp 80 ::/0 any ::/0 in comment=7a69676769652068747470',
    'allow tcp 443 ::/0 any ::/0 in comment=7a6967676965206874747073',
  ];
  const state = (o: Partial<UfwState> = {}): UfwState => ({ installed: true, tuples: onHost, ipv6: true, active: true, policies: true, ...o });

  test('unchanged when ufw\'s own files hold exactly these rules, it is active and the policies are set', () => {
    expect(ufwRules(config, 22).map(ufwCommand)).toEqual([
      "ufw allow from 198.51.100.0/24 to any port 22 proto tcp comment 'ziggie ssh allowlist'",
      "ufw allow 80/tcp comment 'ziggie http'",
      "ufw allow 443/tcp comment 'ziggie https'",
    ]);
    expect(plan(ufw(rules, ['198.51.100.0/24']), { state: state() }).changed).toBe(false);
    expect(plan(ufw(rules, ['198.51.100.0/24']), { state: state({ ipv6: false, tuples: onHost.slice(0, 3) }) }).changed).toBe(false);
  });

  test('a single address is named as ufw names it (no /32), in its files and in `ufw show added`', () => {
    const one = { port: 2222, from: '203.0.113.7/32', comment: 'probe /32' };
    // what the test host wrote for `ufw allow from 203.0.113.7/32 to any port 2222 proto tcp comment 'probe /32'`
    expect(ufwTuples(one, true)).toEqual(['allow tcp 2222 0.0.0.0/0 any 203.0.113.7 in comment=70726f6265202f3332']);
    expect(ufwCommand(one)).toBe("ufw allow from 203.0.113.7 to any port 2222 proto tcp comment 'probe /32'");
  });

  test('a missing or extra rule, policies or ufw off: one ufw run that deletes what `ufw show added` lists beyond the config', async () => {
    const t = ufw(rules, ['198.51.100.0/24']);
    const p = plan(t, { state: state({ tuples: [...onHost.slice(1), 'allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in'], policies: false }) });
    expect(p.msg).toBe('add 1 rule(s), remove rules not configured, default policies');
    const ran: string[] = [];
    const shown = "Added user rules (see 'ufw status' for running firewall):\nufw allow 80/tcp comment 'ziggie http'\nufw allow 443/tcp comment 'ziggie https'\nufw allow 8080/tcp\n";
    const ctx = { run: async (script: string) => (ran.push(script), script === 'ufw show added' ? shown : '') } as unknown as TaskContext;
    await p.apply!(ctx);
    expect(ran).toEqual(['ufw show added', ['ufw default deny incoming', 'ufw default allow outgoing', 'ufw delete allow 8080/tcp',
      "ufw allow from 198.51.100.0/24 to any port 22 proto tcp comment 'ziggie ssh allowlist'", 'ufw --force enable'].join(' >/dev/null && ') + ' >/dev/null']);
    expect(plan(t, { state: state({ active: false }) }).msg).toBe('enable');
    expect(() => plan(t, { state: state({ installed: false, tuples: [] }) })).toThrow('ufw is not installed');
  });
});

test('migrateEnvFiles: reported without the flag; refused on unknown keys before anything is written', () => {
  const put = () => async () => undefined;
  const off = migrateEnvFiles(config, { enabled: false, put, onMigrated: () => undefined });
  expect(plan(off, { found: new Map([[`${PATHS.root}/.env`, null]]) }).msg).toMatch(/^WARNING: .* still on disk/);
  const on = migrateEnvFiles(config, { enabled: true, put, onMigrated: () => undefined });
  expect(() => plan(on, { found: new Map([[`${PATHS.root}/.env`, 'NOT_A_KNOWN_KEY=1\n']]) })).toThrow(/keys the config does not know: NOT_A_KNOWN_KEY/);
  expect(plan(on, { found: new Map() }).changed).toBe(false);
});
