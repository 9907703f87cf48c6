import { HostingerApiError, HostingerClient, retryAfter, type HostingerClientOptions } from '../../../ops/hostinger/client';
import { desiredFirewallRules, planFirewall, ruleKey, syncFirewall } from '../../../ops/hostinger/firewall';
import type { Action, Firewall } from '../../../ops/hostinger/types';
import { FakeHostinger, fixture, reply } from './hostinger-server';

const VM = '/api/vps/v1/virtual-machines/100001';
let api: FakeHostinger;
const sleeps: number[] = [];

function client(extra: Partial<HostingerClientOptions> = {}) {
  return new HostingerClient({ token: 'test-token', baseUrl: api.url, sleep: async (ms) => { sleeps.push(ms); }, ...extra });
}

beforeEach(async () => {
  sleeps.length = 0;
  api = await new FakeHostinger().start();
});
afterEach(() => api.stop());

describe('virtual machines', () => {
  test('list and get, with the bearer token', async () => {
    api.on('GET /api/vps/v1/virtual-machines', reply(200, 'virtual-machines.json'))
      .on(`GET ${VM}`, reply(200, 'virtual-machine.json'));
    const c = client();
    const vms = await c.listVirtualMachines();
    expect(vms.map((v) => [v.id, v.state, v.ipv4?.[0].address])).toEqual([[100001, 'running', '203.0.113.10']]);
    const vm = await c.getVirtualMachine(100001);
    expect(vm.hostname).toBe('srv100001.hstgr.cloud');
    expect(api.requests[0].headers.authorization).toBe('Bearer test-token');
    expect(api.requests[0].headers.accept).toBe('application/json');
  });
});

describe('snapshots', () => {
  test('get, create, wait for the action, restore', async () => {
    api.on(`GET ${VM}/snapshot`, reply(200, 'snapshot.json'))
      .on(`POST ${VM}/snapshot`, reply(200, 'action-snapshot-created.json'))
      .on(`GET ${VM}/actions/8123712`, reply(200, 'action-snapshot-created.json'), reply(200, 'action-snapshot-success.json'))
      .on(`POST ${VM}/snapshot/restore`, reply(200, 'action-snapshot-created.json'));
    const c = client();
    expect(await c.getSnapshot(100001)).toMatchObject({ id: 325, restore_time: 600 });
    const action = await c.createSnapshot(100001);
    expect(action.state).toBe('created');
    const polled: string[] = [];
    const done = await c.waitForAction(100001, action, { intervalMs: 1, onPoll: (a) => polled.push(a.state) });
    expect(done.state).toBe('success');
    expect(polled).toEqual(['created', 'success']);
    expect((await c.restoreSnapshot(100001)).id).toBe(8123712);
    expect(api.calls(`POST ${VM}/snapshot/restore`)).toHaveLength(1);
  });

  test('no snapshot: 404 or an empty object → null', async () => {
    api.on(`GET ${VM}/snapshot`, { status: 404, body: { message: 'Not found' } }, { status: 200, body: {} });
    const c = client();
    expect(await c.getSnapshot(100001)).toBeNull();
    expect(await c.getSnapshot(100001)).toBeNull();
  });

  test('a failed action throws', async () => {
    api.on(`GET ${VM}/actions/8123799`, reply(200, 'action-error.json'));
    await expect(client().waitForAction(100001, { ...fixture<Action>('action-snapshot-created.json'), id: 8123799 }, { intervalMs: 1 }))
      .rejects.toThrow(/failed/);
  });
});

describe('firewall', () => {
  test('lists every page', async () => {
    api.on('GET /api/vps/v1/firewall?page=1', reply(200, 'firewalls-page-1.json'))
      .on('GET /api/vps/v1/firewall?page=2', reply(200, 'firewalls-page-2.json'));
    const fws = await client().listFirewalls();
    expect(fws.map((f) => f.name)).toEqual(['ziggie-prod', 'other-project']);
  });

  test('rule identity treats SSH as TCP 22', () => {
    expect(ruleKey({ protocol: 'SSH', port: '22', source: 'any', source_detail: 'any' })).toBe('accept TCP 22 from any');
    expect(ruleKey({ protocol: 'TCP', port: '22', source: 'custom', source_detail: '198.51.100.0/24' })).toBe('accept TCP 22 from 198.51.100.0/24');
  });

  test('plan: add the allowlisted SSH and HTTP, drop SSH-from-anywhere, sync and activate', () => {
    const existing = fixture<{ data: Firewall[] }>('firewalls-page-1.json').data[0];
    const plan = planFirewall('ziggie-prod', existing, desiredFirewallRules({ vps: { sshAllowlist: ['198.51.100.0/24'] } as never }), null);
    expect(plan.create).toBe(false);
    expect(plan.add.map(ruleKey)).toEqual(['accept TCP 22 from 198.51.100.0/24', 'accept TCP 80 from any']);
    expect(plan.remove.map((r) => r.id)).toEqual([24541]);
    expect(plan).toMatchObject({ sync: true, activate: true });
  });

  test('sync applies the plan; check mode only reads', async () => {
    api.on('GET /api/vps/v1/firewall?page=1', reply(200, 'firewalls-page-1.json'))
      .on('GET /api/vps/v1/firewall?page=2', reply(200, 'firewalls-page-2.json'))
      .on(`GET ${VM}`, reply(200, 'virtual-machine.json'))
      .on('POST /api/vps/v1/firewall/65224/rules', reply(200, 'firewall-rule-created.json'))
      .on('DELETE /api/vps/v1/firewall/65224/rules/24541', reply(200, 'success-empty.json'))
      .on('POST /api/vps/v1/firewall/65224/activate/100001', reply(200, 'action-firewall.json'));
    const rules = desiredFirewallRules({ vps: { sshAllowlist: ['198.51.100.0/24'] } as never });
    const check = await syncFirewall(client(), { name: 'ziggie-prod', vmId: 100001, rules, check: true });
    expect(check).toMatchObject({ changed: true, applied: false });
    expect(api.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);

    const done = await syncFirewall(client(), { name: 'ziggie-prod', vmId: 100001, rules });
    expect(done.applied).toBe(true);
    const posts = api.calls('POST /api/vps/v1/firewall/65224/rules').map((r) => r.body);
    expect(posts).toEqual([
      { protocol: 'TCP', port: '22', source: 'custom', source_detail: '198.51.100.0/24' },
      { protocol: 'TCP', port: '80', source: 'any', source_detail: 'any' },
    ]);
    expect(api.calls('DELETE /api/vps/v1/firewall/65224/rules/24541')).toHaveLength(1);
    expect(api.calls('POST /api/vps/v1/firewall/65224/activate/100001')).toHaveLength(1);
  });
});

describe('DNS', () => {
  test('get the zone and update records (overwrite by default)', async () => {
    api.on('GET /api/dns/v1/zones/example.com', reply(200, 'dns-zone.json'))
      .on('PUT /api/dns/v1/zones/example.com', reply(200, 'success-empty.json'));
    const c = client();
    const zone = await c.getDnsZone('example.com');
    expect(zone.find((r) => r.name === 'n8n')).toMatchObject({ type: 'A', ttl: 3600, records: [{ content: '203.0.113.10' }] });
    await c.updateDnsZone('example.com', [{ name: 'comfy', type: 'A', ttl: 300, records: [{ content: '198.51.100.7' }] }]);
    expect(api.calls('PUT /api/dns/v1/zones/example.com')[0].body).toEqual({
      overwrite: true, zone: [{ name: 'comfy', type: 'A', ttl: 300, records: [{ content: '198.51.100.7' }] }],
    });
  });
});

describe('errors and resilience', () => {
  test('401 → unauthenticated with what to do, not retried', async () => {
    api.on(`GET ${VM}`, reply(401, 'error-401.json'));
    const err = await client().getVirtualMachine(100001).catch((e) => e);
    expect(err).toBeInstanceOf(HostingerApiError);
    expect(err).toMatchObject({ kind: 'unauthenticated', status: 401, correlationId: '0d5c2b7e-4b8a-4a0b-9a8e-0c0f8e1a1f01' });
    expect(err.hint).toMatch(/secrets put hostinger-api-token/);
    expect(api.requests).toHaveLength(1);
  });

  test('422 carries the field errors', async () => {
    api.on('POST /api/vps/v1/firewall/65224/rules', reply(422, 'error-422.json'));
    const err = await client().createFirewallRule(65224, { protocol: 'TCP', port: '22', source: 'custom', source_detail: 'x' }).catch((e) => e);
    expect(err.kind).toBe('validation');
    expect(err.message).toMatch(/source_detail: The source detail must be a valid IP/);
  });

  test('429 waits for Retry-After, then succeeds (even for a POST)', async () => {
    api.on(`POST ${VM}/snapshot`, reply(429, 'error-429.json', { 'Retry-After': '3' }), reply(200, 'action-snapshot-created.json'));
    const action = await client().createSnapshot(100001);
    expect(action.id).toBe(8123712);
    expect(sleeps).toEqual([3000]);
    expect(api.calls(`POST ${VM}/snapshot`)).toHaveLength(2);
  });

  test('429 that persists → rate-limited error after the retries', async () => {
    api.on(`GET ${VM}`, reply(429, 'error-429.json', { 'Retry-After': '120' }));
    const err = await client({ maxRetries: 1, maxRetryAfterSeconds: 5 }).getVirtualMachine(100001).catch((e) => e);
    expect(err).toMatchObject({ kind: 'rate-limited', retryAfterSeconds: 120 });
    expect(sleeps).toEqual([5000]);
    expect(err.hint).toMatch(/wait 120 s/);
  });

  test('5xx on a GET is retried, then succeeds', async () => {
    api.on(`GET ${VM}`, reply(502, 'error-500.json'), reply(200, 'virtual-machine.json'));
    expect((await client().getVirtualMachine(100001)).id).toBe(100001);
    expect(api.calls(`GET ${VM}`)).toHaveLength(2);
  });

  test('5xx on a POST is not retried (snapshot creation is not idempotent)', async () => {
    api.on(`POST ${VM}/snapshot`, reply(500, 'error-500.json'));
    const err = await client().createSnapshot(100001).catch((e) => e);
    expect(err.kind).toBe('server');
    expect(err.message).toMatch(/correlation f00dbabe/);
    expect(api.calls(`POST ${VM}/snapshot`)).toHaveLength(1);
  });

  test('timeouts abort the request', async () => {
    api.on(`GET ${VM}`, { status: 200, body: {}, delayMs: 500 });
    const err = await client({ timeoutMs: 50, maxRetries: 0 }).getVirtualMachine(100001).catch((e) => e);
    expect(err.kind).toBe('timeout');
  });

  test('network failure → network error', async () => {
    const c = new HostingerClient({ token: 't', baseUrl: 'http://127.0.0.1:1', maxRetries: 0 });
    expect((await c.listVirtualMachines().catch((e) => e)).kind).toBe('network');
  });

  test('repeated 5xx open the circuit: later calls fail fast without a request', async () => {
    api.on(`GET ${VM}`, reply(503, 'error-500.json'));
    const c = client({ maxRetries: 0, breaker: { volumeThreshold: 3, resetTimeout: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await c.getVirtualMachine(100001).catch((e) => e)).kind).toBe('server');
    const before = api.requests.length;
    const err = await c.getVirtualMachine(100001).catch((e) => e);
    expect(err.kind).toBe('circuit-open');
    expect(api.requests.length).toBe(before);
  });

  test('4xx do not open the circuit', async () => {
    api.on(`GET ${VM}`, reply(401, 'error-401.json'));
    const c = client({ maxRetries: 0, breaker: { volumeThreshold: 2 } });
    for (let i = 0; i < 5; i++) expect((await c.getVirtualMachine(100001).catch((e) => e)).kind).toBe('unauthenticated');
    expect(api.requests).toHaveLength(5);
  });

  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfter('7')).toBe(7);
    expect(retryAfter(new Date(Date.UTC(2025, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2025, 0, 1))).toBe(30);
    expect(retryAfter(null)).toBeUndefined();
  });
});
