/** The VPS playbook's inventory vars, its .env migration planning and the provision:vps CLI, without a host. */
import path from 'node:path';
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import { hostSettings, vpsPlaybook } from '../../../playbooks/hostinger-vps';
import { parseDotenv, planMigration } from '../../../playbooks/hostinger-vps/tasks';
import { flattenTasks } from '../../../provision/playbook';
import { redact, secret } from '../../../provision/secret';
import { UnreachableError } from '../../../provision/errors';
import { provisionVps } from '../../../scripts/lib/provision-vps';

const config = loadConfig(EXAMPLE_CONFIG);
const ROOT = path.resolve(__dirname, '../../..');
/** A stand-in for the bundled control center (scripts/lib/control-center-app.ts builds the real one). */
const APP = { 'package.json': Buffer.from('{}'), 'control-center/control-center.mjs': Buffer.from('// bundle') };

describe('inventory vars', () => {
  test('defaults: backups to the config bucket at 03:15, ssh 22, hardening on, credentials left alone', () => {
    expect(hostSettings(config, 'h', {})).toEqual({
      backupDestination: 's3://ziggie-cloud-backups', backupSchedule: '*-*-* 03:15:00', sshPort: 22, endpoints: {}, hardening: true, credentials: undefined,
    });
  });

  test('credentials: both or neither; the secret key stays a Secret', () => {
    const h = hostSettings(config, 'h', { vps_aws_access_key_id: 'AKIAABCDEFGHIJKLMNOP', vps_aws_secret_access_key: secret('s3cr3t-key-value') });
    expect(h.credentials!.accessKeyId).toBe('AKIAABCDEFGHIJKLMNOP');
    expect(String(h.credentials!.secretAccessKey)).toBe('***');
    expect(() => hostSettings(config, 'h', { vps_aws_access_key_id: 'AKIAABCDEFGHIJKLMNOP' })).toThrow(/give both/);
  });

  test('a misspelt vps_* var or a bad value is an error naming the host and the var', () => {
    expect(() => hostSettings(config, 'vps1', { vps_backup_destinaton: 's3://x' })).toThrow('host vps1: vps_backup_destinaton: unknown vps_* variable');
    expect(() => hostSettings(config, 'vps1', { vps_backup_destination: 'ftp://x' })).toThrow(/vps_backup_destination: s3:\/\/BUCKET/);
    expect(() => hostSettings(config, 'vps1', { vps_ssh_port: 70000 })).toThrow(/vps_ssh_port/);
    // other vars (ansible_*, a group's own) pass through
    expect(() => hostSettings(config, 'vps1', { ansible_host: '1.2.3.4', team: 'ops' })).not.toThrow();
  });
});

describe('the playbook', () => {
  test('every service gets a compose project and a unit, tagged for --tags', () => {
    const pb = vpsPlaybook(config, { controlCenterApp: APP });
    const tasks = flattenTasks(pb.tasks({ name: 'h', groups: ['all'], vars: {} } as never));
    const names = tasks.map((t) => t.name);
    for (const c of config.containers) {
      expect(names).toContain(`compose ${c.name}`);
      expect(names).toContain(`systemd ziggie-${c.name}.service started`);
    }
    const tagsOf = (n: string) => tasks.find((t) => t.name === n)!.tags;
    expect(tagsOf('compose n8n')).toEqual(expect.arrayContaining(['containers', 'svc-n8n']));
    expect(tagsOf('container secrets fetched into tmpfs')).toContain('secrets');
    expect(tagsOf('refresh secrets (rotation)')).toEqual(['never', 'refresh-secrets']);
    expect(tagsOf('ufw: ssh from the allowlist, http(s) public')).toContain('hardening');
    // without inventory credentials the playbook checks the file instead of writing it
    expect(names).toContain('/etc/ziggie/aws-credentials present (root, 0600)');
  });

  test('the n8n workflows in docs/n8n are copied and imported once per content (a stamp per digest), tagged n8n-workflows', () => {
    const tasks = flattenTasks(vpsPlaybook(config, { controlCenterApp: APP }).tasks({ name: 'h', groups: ['all'], vars: {} } as never));
    const wf = tasks.filter((t) => t.tags.includes('n8n-workflows')).map((t) => t.name);
    expect(wf).toEqual(expect.arrayContaining([
      'n8n workflow backup-status.json', 'n8n workflow bedrock-chat.json', 'n8n workflow gpu-comfyui-generate.json', 'n8n import:workflow (docs/n8n)',
    ]));
    const again = flattenTasks(vpsPlaybook(config, { controlCenterApp: APP }).tasks({ name: 'h', groups: ['all'], vars: {} } as never));
    expect(again.map((t) => t.name)).toEqual(tasks.map((t) => t.name));
    const noN8n = { ...config, containers: config.containers.filter((c) => c.name !== 'n8n') };
    expect(flattenTasks(vpsPlaybook(noN8n, { controlCenterApp: APP }).tasks({ name: 'h', groups: ['all'], vars: {} } as never)).some((t) => t.tags.includes('n8n-workflows'))).toBe(false);
  });

  test('vps_hardening: false drops ufw and fail2ban (packages too)', () => {
    const tasks = flattenTasks(vpsPlaybook(config, { controlCenterApp: APP }).tasks({ name: 'h', groups: ['all'], vars: { vps_hardening: false } } as never));
    expect(tasks.some((t) => t.tags.includes('hardening'))).toBe(false);
    expect(tasks.find((t) => t.module === 'apt' && t.name.startsWith('packages'))!.name).not.toMatch(/ufw/);
  });
});

describe('legacy .env migration', () => {
  test('dotenv parsing: export, quotes, escapes, comments, multi-line', () => {
    const env = parseDotenv([
      '# comment', 'A=plain', 'export B=two words # trailing', 'C="quoted \\"x\\" $y\\nz"', "D='single $x \\\\ # not comment'",
      'E="multi', 'line"', '', 'not a line', 'F=',
    ].join('\n'));
    expect(Object.fromEntries(env)).toEqual({ A: 'plain', B: 'two words', C: 'quoted "x" $y\nz', D: 'single $x \\\\ # not comment', E: 'multi\nline', F: '' });
  });

  test('a service dir .env maps to that service\'s secrets; the shared .env to every service', () => {
    const plan = planMigration(config, new Map([
      ['/opt/ziggie/ziggie-api/.env', 'JWT_SECRET=jwt-j1\nMESHY_API_KEY=meshy-m1\nNODE_ENV=production\n'],
      ['/opt/ziggie/.env', 'OPENAI_API_KEY=openai-o1\nREDIS_PASSWORD=redis-r1\n'],
    ]));
    expect(Object.fromEntries(plan.put)).toEqual({
      'ziggie/prod/jwt-secret': 'jwt-j1', 'ziggie/prod/meshy-api-key': 'meshy-m1', 'ziggie/prod/openai-api-key': 'openai-o1', 'ziggie/prod/redis-password': 'redis-r1',
    });
    expect(plan.plain).toEqual(['NODE_ENV']);
    expect(plan.unknown).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    // every value read is registered: it can never reach a log line
    expect(redact('token jwt-j1 and openai-o1, env production')).toBe('token *** and ***, env production');
  });

  test('unknown keys and disagreeing values are reported (the task then migrates nothing)', () => {
    const plan = planMigration(config, new Map([
      ['/opt/ziggie/n8n/.env', 'N8N_ENCRYPTION_KEY=enc-key-1\nWHO_KNOWS=unknown-value-1\n'],
      ['/opt/ziggie/.env', 'JWT_SECRET=jwt-value-x\n'],
      ['/opt/ziggie/mcp-gateway/.env', 'JWT_SECRET=jwt-value-y\n'],
    ]));
    expect(plan.unknown).toEqual(['WHO_KNOWS (/opt/ziggie/n8n/.env)']);
    expect(plan.conflicts).toEqual(['ziggie/prod/jwt-secret (from JWT_SECRET)']);
  });
});

describe('provision:vps CLI', () => {
  const inventory = path.join(ROOT, 'test/fixtures/vps/unit-inventory.yaml');
  const unreachable = { connect: async (h: { name: string }) => { throw new UnreachableError(`${h.name}: test: no host`); } };
  let stderr: string;
  const err = (s: string) => void (stderr += s);
  beforeEach(() => (stderr = ''));

  test('--snapshot-first asks for the snapshot before connecting anywhere', async () => {
    const order: string[] = [];
    const code = await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--snapshot-first', '--yes'], {
      config, playbook: { controlCenterApp: APP }, stderr: err,
      snapshot: async () => (order.push('snapshot'), 'snapshot of VPS 100001 taken'),
      cli: { runOptions: { connect: async (h) => (order.push('connect'), unreachable.connect(h)) }, output: silent() },
    });
    expect(order).toEqual(['snapshot', 'connect']);
    expect(code).toBe(4);
    expect(stderr).toContain('snapshot: snapshot of VPS 100001 taken');
  });

  test('no snapshot, no change: a failed snapshot stops before any host is touched', async () => {
    let connected = false;
    const code = await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--snapshot-first', '--yes'], {
      config, playbook: { controlCenterApp: APP }, stderr: err,
      snapshot: async () => { throw new Error('Hostinger API: 503'); },
      cli: { runOptions: { connect: async (h) => ((connected = true), unreachable.connect(h)) }, output: silent() },
    });
    expect(code).toBe(1);
    expect(connected).toBe(false);
    expect(stderr).toContain('error: --snapshot-first: Hostinger API: 503; nothing was changed');
  });

  test('a run that can change the hosts asks first; no answer, or no terminal without --yes, changes nothing (exit 2)', async () => {
    let connected = false;
    const cli = { runOptions: { connect: async (h: { name: string }) => ((connected = true), unreachable.connect(h)) }, output: silent() };
    const asked: string[] = [];
    const no = await provisionVps(['node', 'provision-vps', '--inventory', inventory], {
      config, stderr: err, cli, confirm: async (q) => (asked.push(q), false),
    });
    expect(no).toBe(2);
    expect(asked[0]).toMatch(/^provision:vps will change vps-unit \(\S+@\S+:\d+\)\. Go on\? \[y\/N\] $/);
    expect(stderr).toContain('not confirmed: nothing was changed');
    expect(await provisionVps(['node', 'provision-vps', '--inventory', inventory], { config, playbook: { controlCenterApp: APP }, stderr: err, cli })).toBe(2);
    expect(stderr).toContain('confirm with --yes (no terminal to ask on)');
    expect(connected).toBe(false);
    expect(await provisionVps(['node', 'provision-vps', '--inventory', inventory], { config, playbook: { controlCenterApp: APP }, stderr: err, cli, confirm: async () => true })).toBe(4);
    expect(connected).toBe(true);
  });

  test('--help and --version do nothing else; an unknown flag is one line, exit 2', async () => {
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const errs: string[] = [];
    const spyErr = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (errs.push(String(s)), true));
    try {
      expect(await provisionVps(['node', 'provision-vps', '--help'], { stderr: err })).toBe(0);
      expect(out.join('')).toMatch(/--snapshot-first[\s\S]*-y, --yes/);
      expect(await provisionVps(['node', 'provision-vps', '--version'], { stderr: err })).toBe(0);
      expect(await provisionVps(['node', 'provision-vps', '--bogus'], { stderr: err })).toBe(2);
    } finally {
      spy.mockRestore();
      spyErr.mockRestore();
    }
    expect(errs.join('')).toBe("error: unknown option '--bogus'\n");
  });

  test('--check skips the snapshot (nothing will change)', async () => {
    let asked = false;
    await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--snapshot-first', '--check'], {
      config, stderr: err, snapshot: async () => ((asked = true), ''), cli: { runOptions: unreachable, output: silent() },
    });
    expect(asked).toBe(false);
    expect(stderr).toContain('--snapshot-first: skipped in check mode');
  });

  test('the example inventory parses and lists the tasks', async () => {
    const env = { ...process.env };
    process.env.ZIGGIE_VPS_AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE01';
    process.env.ZIGGIE_VPS_AWS_SECRET_ACCESS_KEY = 'example-secret';
    process.env.ZIGGIE_CONTROL_PLANE_AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE02';
    process.env.ZIGGIE_CONTROL_PLANE_AWS_SECRET_ACCESS_KEY = 'example-cp-secret';
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      const code = await provisionVps(['node', 'provision-vps', '--inventory', path.join(ROOT, 'inventory/hostinger.example.yaml'), '--list-tasks'], { config, playbook: { controlCenterApp: APP }, stderr: err });
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
      process.env = env;
    }
    const text = out.join('');
    expect(text).toContain('ziggie-vps (ubuntu@203.0.113.10:22)');
    expect(text).toContain('compose ziggie-api');
    expect(text).not.toContain('example-secret');
    expect(text).not.toContain('example-cp-secret');
    expect(text).toContain('compose control-center');
  });

  test('--limit and --tags select hosts and tasks (one service: --tags svc-n8n)', async () => {
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      expect(await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--limit', 'vps-unit', '--tags', 'svc-n8n', '--list-tasks'], { config, playbook: { controlCenterApp: APP }, stderr: err })).toBe(0);
      expect(await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--limit', 'nope', '--list-tasks'], { config, playbook: { controlCenterApp: APP }, stderr: err })).toBe(2);
    } finally {
      write.mockRestore();
    }
    const tasks = out.join('').split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim());
    expect(tasks).toEqual(['compose    compose n8n  [containers,svc-n8n]', 'systemd    systemd ziggie-n8n.service started  [containers,svc-n8n]']);
  });

  test('a misspelt vps_* variable in the inventory is bad input (exit 2), before any connection', async () => {
    let connected = false;
    const errs: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (errs.push(String(s)), true));
    try {
      const code = await provisionVps(['node', 'provision-vps', '--inventory', path.join(ROOT, 'test/fixtures/vps/unit-inventory-bad.yaml'), '--yes'], {
        config, playbook: { controlCenterApp: APP }, stderr: err, cli: { runOptions: { connect: async (h) => ((connected = true), unreachable.connect(h)) }, output: silent() },
      });
      expect(code).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(connected).toBe(false);
    expect(errs.join('')).toContain('host vps-unit: vps_backup_shedule: unknown vps_* variable');
  });
});

describe('provision:vps network guardrails (the same as synth)', () => {
  const inventory = path.join(ROOT, 'test/fixtures/vps/unit-inventory.yaml');
  const withAllowlist = (sshAllowlist: string[]) => ({ ...config, vps: { ...config.vps, sshAllowlist } });

  test.each([['0.0.0.0/0'], ['10.0.0.0/8'], ['198.51.100.0/23']])('sshAllowlist %s is refused: exit 2, one line, before any connection', async (cidr) => {
    let connected = false;
    let stderr = '';
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
    let code: number;
    try {
      code = await provisionVps(['node', 'provision-vps', '--inventory', inventory, '--check'], {
        config: withAllowlist(['198.51.100.0/24', cidr]), playbook: { controlCenterApp: APP }, stderr: (s) => void (stderr += s),
        cli: { runOptions: { connect: async () => { connected = true; throw new UnreachableError('no'); } }, output: silent() },
      });
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(2);
    expect(connected).toBe(false);
    expect(stderr).toBe(`error: vps.sshAllowlist: ${cidr} is wider than a /24: ufw would admit SSH from it and fail2ban would never ban it ` +
      '(synth refuses the same, SG-NO-PUBLIC-ADMIN-PORTS): list the operators\' own addresses or networks\n');
  });

  test('the same allowlist is what synth refuses: a /24 and a single address pass both', () => {
    expect(() => vpsPlaybook(withAllowlist(['198.51.100.0/24', '203.0.113.7/32']), { controlCenterApp: APP })).not.toThrow();
  });

  test('a container port on every interface is a config error unless publicPorts says so; no address binds loopback', () => {
    const { parseConfig } = require('../../../config/load') as typeof import('../../../config/load');
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const text = readFileSync(EXAMPLE_CONFIG, 'utf8').replace('ports: ["127.0.0.1:5678:5678"]', 'ports: ["0.0.0.0:5678:5678"]');
    expect(() => parseConfig(text, 'c.yaml')).toThrow(
      'config error: containers[2].ports[0]: binds 0.0.0.0, which bypasses ufw: use 127.0.0.1:5678:5678 or set publicPorts: true on purpose');
    expect(parseConfig(text.replace('ports: ["0.0.0.0:5678:5678"]', 'ports: ["0.0.0.0:5678:5678"]\n    publicPorts: true'), 'c.yaml')
      .containers[2]!.publicPorts).toBe(true);
  });
});

function silent() {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { SilentOutput } = require('../../../provision/output') as typeof import('../../../provision/output');
  return new SilentOutput();
}
