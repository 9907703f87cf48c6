/**
 * The cloud page in a real browser: Debian's Chromium (headless, driven by playwright-core, no browser download)
 * against the real control-center server on loopback; AWS behind aws-sdk-client-mock, Hostinger behind the local
 * stand-in. Screenshots of each state go to reports/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client, StartInstancesCommand, StopInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildHttpServer } from '../../../control/http/server';
import { buildWeb } from '../../../web/build';
import { FakeHostinger, reply } from '../ops/hostinger-server';
import { resetAuditMocks, testPlane, type TestPlane } from '../control/helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '../../../reports/screenshots');
const skip = existsSync(CHROMIUM) ? undefined : `chromium: ${CHROMIUM} not found (apt-get install -y chromium)`;
if (skip) console.log(`SKIPPED: unit: ${skip}`);
const maybe = skip ? describe.skip : describe;

const ec2 = mockClient(EC2Client);
const ce = mockClient(CostExplorerClient);
const budgets = mockClient(BudgetsClient);
const cw = mockClient(CloudWatchClient);
const GPU_ID = 'i-0123456789abcdef0';
const PUBLIC_IP = '198.51.100.7';

let gpuState: NonNullable<Instance['State']>['Name'];
let describesUntilRunning = 0;
const gpu = (): Instance => ({
  InstanceId: GPU_ID, InstanceType: 'g4dn.xlarge', State: { Name: gpuState }, InstanceLifecycle: 'spot',
  Placement: { AvailabilityZone: 'eu-north-1a' }, Tags: [{ Key: 'Project', Value: 'Ziggie' }, { Key: 'Role', Value: 'comfyui-gpu' }],
  ...(gpuState === 'running' || gpuState === 'pending' ? { PublicIpAddress: PUBLIC_IP, LaunchTime: new Date(Date.now() - 15 * 60_000) } : {}),
});

/** 90 days of Cost Explorer DAILY results, in the shape the API records. */
function dailyResults(metric: 'UnblendedCost' | 'UsageQuantity', days = 90) {
  const end = Date.UTC(2026, 10, 29);
  return Array.from({ length: days }, (_, i) => {
    const start = new Date(end - (days - i) * 86_400_000).toISOString().slice(0, 10);
    const next = new Date(end - (days - i - 1) * 86_400_000).toISOString().slice(0, 10);
    const amount = metric === 'UnblendedCost' ? (1 + (i % 7) * 0.5).toFixed(4) : String(i % 5);
    return {
      TimePeriod: { Start: start, End: next }, Estimated: i === days - 1, Groups: [],
      Total: { [metric]: { Amount: amount, Unit: metric === 'UnblendedCost' ? 'USD' : 'Hrs' }, ...(metric === 'UsageQuantity' ? { UnblendedCost: { Amount: (Number(amount) * 0.2).toFixed(4), Unit: 'USD' } } : {}) },
    };
  });
}

let hostinger: FakeHostinger;
let t: TestPlane;
let app: FastifyInstance;
let base: string;
let browser: Browser;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function openAs(agent: string, width = 1100): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(base, { waitUntil: 'load' });
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', t.tokens[agent]!);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15_000 });
  return page;
}

const card = (id: string) => `[data-id="${id}"]`;

maybe('cloud page in headless Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildWeb();
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, chromiumSandbox: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    for (const m of [ec2, ce, budgets, cw]) m.reset();
    resetAuditMocks();
    hostinger = await new FakeHostinger().start();
    hostinger.on('GET /api/vps/v1/virtual-machines/100001', reply(200, 'virtual-machine.json'));
    gpuState = 'stopped';
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.1900' }] });
    ec2.on(DescribeInstancesCommand).callsFake(async () => {
      if (gpuState === 'pending' && --describesUntilRunning <= 0) gpuState = 'running';
      return { Reservations: [{ Instances: [gpu()] }] };
    });
    ec2.on(StartInstancesCommand).callsFake(async () => {
      gpuState = 'pending';
      describesUntilRunning = 3;
      return { StartingInstances: [{ InstanceId: GPU_ID, PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] };
    });
    // the ComfyUI watchdog's heartbeat: alive
    cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ SampleCount: 1, Timestamp: new Date() }] });
    ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY', Metrics: ['UnblendedCost'] }).resolves({ ResultsByTime: dailyResults('UnblendedCost') as never });
    ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY', Metrics: ['UsageQuantity', 'UnblendedCost'] }).resolves({ ResultsByTime: dailyResults('UsageQuantity') as never });
    ce.on(GetCostAndUsageCommand, { Granularity: 'MONTHLY' }).resolves({ ResultsByTime: [{ Groups: [
      { Keys: ['Amazon Elastic Compute Cloud - Compute'], Metrics: { UnblendedCost: { Amount: '21.40', Unit: 'USD' } } },
      { Keys: ['AWS Secrets Manager'], Metrics: { UnblendedCost: { Amount: '3.20', Unit: 'USD' } } },
    ] }] });
    ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '30.00', Unit: 'USD' } });
    budgets.on(DescribeBudgetCommand).resolves({ Budget: { BudgetName: 'ziggie-monthly', BudgetLimit: { Amount: '100', Unit: 'USD' }, TimeUnit: 'MONTHLY', BudgetType: 'COST' } });
    t = testPlane({ hostingerUrl: hostinger.url, patch: (c) => { c.controlCenter.statusCacheSeconds = 0; } });
    app = await buildHttpServer(t.plane);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
    await hostinger.stop();
  });

  test('loads, lists the instances and draws 90 days of cost and GPU hours', async () => {
    const page = await openAs('agent-ops');
    expect(await page.$$eval('.instance', (xs) => xs.map((x) => x.getAttribute('data-id')))).toEqual([`aws/${GPU_ID}`, 'hostinger/100001']);
    const gpuText = await page.$eval(card(`aws/${GPU_ID}`), (e) => (e as { innerText: string }).innerText);
    expect(gpuText).toMatch(/g4dn\.xlarge/);
    expect(gpuText).toMatch(/session cost so far\s+unknown/); // stopped: no session, and no $0 made up
    const vpsText = await page.$eval(card('hostinger/100001'), (e) => (e as { innerText: string }).innerText);
    expect(vpsText).toMatch(/containers up\s+unknown/);
    expect(vpsText).toMatch(/last backup\s+unknown/);
    expect(await page.$$eval('#trend rect.point', (xs) => xs.length)).toBe(90);
    expect(await page.$$eval('#gpu-hours rect.point', (xs) => xs.length)).toBe(90);
    const costs = await page.$eval('#costs', (e) => (e as { innerText: string }).innerText);
    expect(costs).toMatch(/Amazon Elastic Compute Cloud - Compute\s+\$21\.40/);
    expect(costs).toMatch(/total month to date\s+\$44\.59/); // 24.60 AWS + 19.99 Hostinger
    await shot(page, '01-loaded');
    await page.context().close();
  }, 60_000);

  test('start asks for confirmation, shows "starting" while polling, then "running" with the ComfyUI URL', async () => {
    const page = await openAs('agent-ops');
    const confirms: string[] = [];
    page.removeAllListeners('dialog');
    page.on('dialog', (d) => { confirms.push(d.message()); void d.accept(); });
    await page.click(`${card(`aws/${GPU_ID}`)} button[data-action=start]`);
    await page.waitForSelector(`${card(`aws/${GPU_ID}`)}[data-state="starting"]`, { timeout: 10_000 });
    await shot(page, '02-starting');
    await page.waitForSelector(`${card(`aws/${GPU_ID}`)}[data-state="running"]`, { timeout: 20_000 });
    expect(confirms).toEqual([`Start the GPU instance (aws ${GPU_ID})?`]);
    expect(await page.$eval(`${card(`aws/${GPU_ID}`)} .url a`, (a) => a.getAttribute('href'))).toBe(`http://${PUBLIC_IP}:8188`);
    expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(1);
    const text = await page.$eval(card(`aws/${GPU_ID}`), (e) => (e as { innerText: string }).innerText);
    expect(text).toMatch(/Spot price\s+\$0\.1900\/h \(spot-price\)/);
    expect(text).toMatch(/uptime this session\s+15 min/);
    expect(text).toMatch(/session cost so far\s+\$0\.05/); // 15 min × $0.19/h
    await shot(page, '03-running');
    await page.context().close();
  }, 60_000);

  test('a declined confirmation changes nothing; a failed stop shows the API\'s error on the card', async () => {
    gpuState = 'running';
    ec2.on(StopInstancesCommand).rejects(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation', $metadata: {} }));
    const page = await openAs('agent-ops');
    page.removeAllListeners('dialog');
    page.once('dialog', (d) => void d.dismiss());
    await page.click(`${card(`aws/${GPU_ID}`)} button[data-action=stop]`);
    await new Promise((r) => setTimeout(r, 300));
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    page.once('dialog', (d) => void d.accept());
    await page.click(`${card(`aws/${GPU_ID}`)} button[data-action=stop]`);
    await page.waitForSelector(`${card(`aws/${GPU_ID}`)} .error:not([hidden])`, { timeout: 10_000 });
    const error = await page.$eval(`${card(`aws/${GPU_ID}`)} .error`, (e) => e.textContent);
    expect(error).toMatch(/not authorized|UnauthorizedOperation/);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(1);
    await shot(page, '04-stop-failed');
    await page.context().close();
  }, 60_000);

  test('a read-only token sees no buttons', async () => {
    const page = await openAs('agent-viewer');
    expect(await page.$$('.instance')).toHaveLength(2);
    expect(await page.$$('.instance button')).toHaveLength(0);
    expect(await page.$eval('#whoami', (e) => e.textContent)).toBe('agent-viewer (read-only)');
    await shot(page, '05-read-only');
    await page.context().close();
  }, 60_000);

  test('a wrong token is refused with the API\'s message and nothing loads', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    await page.fill('#token', 'zgt_' + 'A'.repeat(43));
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.$eval('#login-error', (e) => e.textContent)).toMatch(/unauthenticated: unknown or revoked token/);
    expect(await page.$eval('#main', (e) => (e as { hidden: boolean }).hidden)).toBe(true);
    await context.close();
  }, 60_000);

  test('phone width (375 px): no horizontal scroll', async () => {
    const page = await openAs('agent-ops', 375);
    const { scroll, client } = await page.evaluate('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })') as { scroll: number; client: number };
    expect(scroll).toBeLessThanOrEqual(client);
    await shot(page, '06-phone');
    await page.context().close();
  }, 60_000);
});
