// `npm run bench:api [-- --seconds 5 --connections 16]`: requests per second and p50/p99 latency of the control
// center's GET /api/cloud/instances and an MCP cloud:status call, against a floor measured in the same run: the same
// Fastify server answering a static route (/livez). AWS behind aws-sdk-client-mock, Hostinger behind a local stub,
// every call authenticated, rate-limited (limit raised), validated and audited as in production.
import { InvalidArgumentError } from 'commander';
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const positive = (v: string): number => {
  if (!/^[1-9]\d{0,3}$/.test(v)) throw new InvalidArgumentError('a whole number from 1 to 9999');
  return Number(v);
};
let SECONDS = 5;
let CONNECTIONS = 16;
const program = cliProgram('bench:api', 'Control-center throughput and latency (instances, MCP cloud:status) against a static-route floor measured in the same run')
  .option('--seconds <n>', 'seconds per measurement', positive, 5)
  .option('--connections <n>', 'concurrent clients', positive, 16)
  .action(async (o: { seconds: number; connections: number }) => {
    SECONDS = o.seconds;
    CONNECTIONS = o.connections;
    await main();
  });

/** `cpuMs`: this process's CPU time per request (server and client both run here): steadier than req/s on a shared machine. */
interface Result { name: string; rps: number; p50: number; p99: number; n: number; errors: number; cpuMs: number }

async function measure(name: string, workers: (() => Promise<void>)[], seconds = SECONDS): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await Promise.all(workers.map(async (one) => {
    while (Date.now() < end) {
      const s = process.hrtime.bigint();
      try {
        await one();
        lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      } catch {
        errors++;
      }
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { name, rps: lat.length / secs, p50: q(0.5), p99: q(0.99), n: lat.length, errors, cpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, lat.length) };
}

async function main(): Promise<void> {
  const { mkdtempSync } = await import('node:fs');
  const http = (await import('node:http')).default;
  const os = (await import('node:os')).default;
  const path = (await import('node:path')).default;
  const { CloudWatchLogsClient, PutLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { mockClient } = await import('aws-sdk-client-mock');
  const { EXAMPLE_CONFIG, loadConfig } = await import('../config/load.js');
  const { buildHttpServer } = await import('../control/http/server.js');
  const { buildControlPlane } = await import('../control/plane.js');
  // AWS: the GPU is stopped; audit records go to a mocked CloudWatch Logs.
  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.19' }] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0123456789abcdef0', State: { Name: 'stopped' }, InstanceType: 'g4dn.xlarge' }] }] });
  mockClient(CloudWatchLogsClient).on(PutLogEventsCommand).resolves({});
  mockClient(STSClient).on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111122223333:user/ziggie/bench', Account: '111122223333' });
  // Hostinger: a local stub answering the VM.
  const vm = JSON.stringify({ id: 100001, hostname: 'srv100001.hstgr.cloud', state: 'running', actions_lock: 'unlocked', cpus: 4, memory: 16384, disk: 1, bandwidth: 1, firewall_group_id: null, ipv4: [{ id: 1, address: '203.0.113.10' }], created_at: '2025-01-01T00:00:00Z' });
  const stub = http.createServer((_, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(vm); });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-api-'));
  process.env.ZIGGIE_STATE_DIR = dir;
  const config = loadConfig(EXAMPLE_CONFIG);
  const agents = Object.fromEntries(Object.entries(config.agents).map(([k, a]) => [k, { ...a, rateLimitPerMinute: 100_000 }]));
  const plane = buildControlPlane({ ...config, agents, controlCenter: { ...config.controlCenter!, tokenStore: path.join(dir, 'tokens.json') } }, {
    env: { HOSTINGER_API_URL: `http://127.0.0.1:${(stub.address() as { port: number }).port}`, HOSTINGER_API_TOKEN: 'bench' },
  });
  const token = plane.tokens!.issue('agent-viewer');
  const app = await buildHttpServer(plane);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const auth = { authorization: `Bearer ${token}` };

  const get = (p: string, headers: Record<string, string> = {}) => async () => {
    const r = await fetch(base + p, { headers });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(String(r.status));
  };
  const many = <T,>(f: () => T): T[] => Array.from({ length: CONNECTIONS }, f);

  const mcpClients = await Promise.all(many(async () => {
    const c = new Client({ name: 'bench', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: auth } }));
    return c;
  }));
  const mcpWorkers = mcpClients.map((c) => async () => {
    const r = await c.callTool({ name: 'cloud_status', arguments: {} });
    if (r.isError) throw new Error('tool error');
  });

  // warm-up of every path measured (the JIT, the status cache), then floor, API, MCP, and the floor again (the
  // machine is shared: report the mean floor)
  for (const workers of [many(() => get('/livez')), many(() => get('/api/cloud/instances', auth)), mcpWorkers]) await measure('warm-up', workers, 1);
  const floor1 = await measure('floor GET /livez (static route)', many(() => get('/livez')));
  const api = await measure('GET /api/cloud/instances', many(() => get('/api/cloud/instances', auth)));
  const mcp = await measure('MCP tools/call cloud_status', mcpWorkers);
  const floor2 = await measure('floor GET /livez (again)', many(() => get('/livez')));
  const floorRps = (floor1.rps + floor2.rps) / 2;
  const floorP50 = (floor1.p50 + floor2.p50) / 2;
  const floorCpu = (floor1.cpuMs + floor2.cpuMs) / 2;

  for (const r of [floor1, api, mcp, floor2]) {
    console.log(`${r.name.padEnd(34)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  cpu ${r.cpuMs.toFixed(2).padStart(5)} ms/req  (${r.n} ok, ${r.errors} errors)`);
  }
  console.log(`describeInstances calls: ${ec2.commandCalls(DescribeInstancesCommand).length} (status cache ${config.controlCenter!.statusCacheSeconds} s)`);
  console.log(`RESULT bench:api ${CONNECTIONS} connections × ${SECONDS} s on ${os.cpus().length} cores: `
    + `instances ${api.rps.toFixed(0)} req/s = ${(api.rps / floorRps).toFixed(2)}× floor, p50 ${api.p50.toFixed(1)} ms (${(api.p50 / floorP50).toFixed(1)}× floor), p99 ${api.p99.toFixed(1)} ms; `
    + `mcp cloud:status ${mcp.rps.toFixed(0)} req/s = ${(mcp.rps / floorRps).toFixed(2)}× floor, p50 ${mcp.p50.toFixed(1)} ms (${(mcp.p50 / floorP50).toFixed(1)}× floor), p99 ${mcp.p99.toFixed(1)} ms; `
    + `floor ${floorRps.toFixed(0)} req/s, p50 ${floorP50.toFixed(1)} ms; `
    + `cpu per request: instances ${(api.cpuMs / floorCpu).toFixed(1)}× floor, mcp ${(mcp.cpuMs / floorCpu).toFixed(1)}× floor (floor ${floorCpu.toFixed(2)} ms)`);
  await Promise.all(mcpClients.map((c) => c.close()));
  await app.close();
  stub.close();
  if (api.errors || mcp.errors) process.exitCode = 1;
}

await exitWith(await runProgram(program, process.argv));
