/**
 * The ComfyUI AMI playbook against a real Debian host (systemd, sshd) under systemd-nspawn, with --allow-cpu and
 * everything offline: a bare git repo standing in for ComfyUI (and one for a custom node), local wheels instead of
 * the torch index and PyPI, a file:// model. Run twice: the second run must change nothing.
 * Skips loudly (SKIPPED: testhost: …) when the machine cannot run test hosts.
 */
import { describeTier } from '../support/tier';
import { bootHost, inventoryYaml, stopOwnHosts, testhostTierReason, type TestHost } from '../harness/testhost';
import { buildComfyFixture, type ComfyFixture } from '../fixtures/comfyui/build';
import { EXAMPLE_CONFIG, loadConfig } from '../../config/load';
import { comfyuiAmiPlaybook, varsFromConfig, type ComfyAmiVars } from '../../playbooks/comfyui-ami';
import { parseInventory } from '../../provision/inventory';
import { MemoryOutput } from '../../provision/output';
import { runPlaybook, type RunReport } from '../../provision/runner';
import { COMFYUI_QUEUE_METRIC } from '../../shared/gpu-signals';
import { remoteDeps } from '../../ami/remote';
import type { BuilderTarget } from '../../ami/bake';

const reason = testhostTierReason();
const INSTANCE = 'i-0feedfacecafe0001';
const POWEROFF_LOG = '/run/ziggie-watchdog/poweroff.log';

describeTier('testhost', reason, () => {
  jest.setTimeout(600_000);
  let host: TestHost;
  let fx: ComfyFixture;
  const timings: string[] = [];

  beforeAll(async () => {
    fx = buildComfyFixture();
    host = await bootHost({ withDocker: false });
    const up = await host.exec(`mkdir -p /srv/ziggie-fixtures && tar -x -C /srv/ziggie-fixtures`, { input: fx.tar });
    if (up.code !== 0) throw new Error(`fixture upload failed: ${up.stderr}`);
    // A stand-in for the CloudWatch agent's EMF listener: every line it receives goes to /var/tmp/emf.log.
    const agent = await host.exec(`systemd-run --unit=fake-cwagent --quiet python3 -c '
import socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        with open("/var/tmp/emf.log", "ab") as f:
            f.write(self.rfile.read())
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", 25888), H).serve_forever()'`);
    if (agent.code !== 0) throw new Error(`fake agent: ${agent.stderr}`);
  });

  afterAll(async () => {
    process.stderr.write(`comfyui-ami on ${host?.name}: ${timings.join(', ')}\n`);
    fx?.cleanup();
    await stopOwnHosts();
  });

  const inventory = () =>
    parseInventory(inventoryYaml([host], { hostVars: { ssh_host_key_fingerprint: host.hostKeyFingerprint } }), '<comfyui-ami-test>');

  const vars = (over: Partial<ComfyAmiVars> = {}): Partial<ComfyAmiVars> => ({
    comfyui: {
      repoUrl: fx.comfyuiRepo,
      ref: fx.refs.v1,
      torchIndexUrl: fx.torchIndex,
      customNodes: [fx.node],
      models: [fx.model],
    },
    allow_cpu: true,
    install_cloudwatch_agent: false,
    start_watchdog: true,
    pip_args: ['--no-index', '--find-links', fx.pypiDir],
    start_timeout: 60,
    watchdog_overrides: {
      instance_id: INSTANCE,
      poweroff_command: ['/bin/sh', '-c', `echo poweroff >> ${POWEROFF_LOG}`],
    },
    ...over,
  });

  async function play(label: string, over: Partial<ComfyAmiVars> = {}): Promise<{ report: RunReport; out: MemoryOutput }> {
    const out = new MemoryOutput();
    const pb = comfyuiAmiPlaybook(varsFromConfig(loadConfig(EXAMPLE_CONFIG)));
    const t = Date.now();
    const report = await runPlaybook(pb, inventory(), { extraVars: vars(over), output: out });
    timings.push(`${label} ${((Date.now() - t) / 1000).toFixed(1)} s (changed=${report.hosts[0]?.stats.changed})`);
    if (process.env.COMFYUI_TEST_VERBOSE) process.stderr.write(`--- ${label}\n${out.text()}\n`);
    return { report, out };
  }

  const stats = async () => JSON.parse((await host.exec('curl -fsS http://127.0.0.1:8188/system_stats')).stdout);

  test('refuses a host without nvidia-smi unless allow_cpu, before changing anything', async () => {
    const { report } = await play('no-gpu refusal', { allow_cpu: false });
    expect(report.ok).toBe(false);
    expect(report.hosts[0]!.stats).toMatchObject({ changed: 0, failed: 1 });
    expect(report.hosts[0]!.error).toMatch(/nvidia-smi is not installed: this playbook is for a GPU image .*--allow-cpu/);
    expect((await host.exec('id comfyui')).code).not.toBe(0);
  });

  test('first run installs ComfyUI, its unit answers on the port, the watchdog timer runs', async () => {
    const { report, out } = await play('first run');
    if (!report.ok) throw new Error(out.text());
    expect(report.hosts[0]!.stats.changed).toBeGreaterThan(10);

    expect((await host.exec('systemctl is-enabled comfyui.service; systemctl is-active comfyui.service')).stdout).toBe('enabled\nactive\n');
    expect((await host.exec(`ss -Hltn 'sport = :8188'`)).stdout).toMatch(/0\.0\.0\.0:8188/);
    const s = await stats();
    expect(s.system).toMatchObject({ comfyui_version: '0.0.1-test', torch_version: '2.5.1', user: 'comfyui' });
    expect(s.system.argv).toEqual(['--listen', '0.0.0.0', '--port', '8188', '--cpu']);
    expect(s.custom_nodes).toEqual(['ComfyUI-FakeManager']);
    expect(s.custom_node_errors).toEqual({});
    expect(s.models).toContain('checkpoints/tiny.safetensors');
    expect((await host.exec('runuser -u comfyui -- git -C /opt/comfyui/ComfyUI rev-parse HEAD')).stdout.trim()).toBe(fx.commits.v1);
    expect((await host.exec('stat -c %U /opt/comfyui/ComfyUI/main.py /opt/comfyui/venv/bin/python3 /opt/comfyui/ComfyUI/models/checkpoints/tiny.safetensors')).stdout)
      .toBe('comfyui\ncomfyui\ncomfyui\n');
    expect((await host.exec('tail -n 5 /var/log/comfyui/comfyui.log')).stdout).toMatch(/To see the GUI go to/);

    expect((await host.exec('systemctl is-enabled comfyui-watchdog.timer; systemctl is-active comfyui-watchdog.timer')).stdout).toBe('enabled\nactive\n');
    const agentCfg = JSON.parse((await host.exec('cat /etc/ziggie/cloudwatch-agent.json')).stdout);
    expect(agentCfg.metrics.aggregation_dimensions).toEqual([['InstanceId']]);
    expect(agentCfg.logs.metrics_collected).toEqual({ emf: {} });
    expect((await host.exec('test -e /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl')).code).not.toBe(0);
  });

  test('second run changes nothing', async () => {
    const { report, out } = await play('second run');
    if (!report.ok) throw new Error(out.text());
    const changed = report.hosts[0]!.tasks.filter((t) => t.changed).map((t) => t.name);
    expect(changed).toEqual([]);
    expect(report.hosts[0]!.stats.changed).toBe(0);
  });

  test('the installed watchdog publishes QueueDepth through the agent listener, then powers off when idle', async () => {
    await host.exec('rm -f /var/tmp/emf.log');
    const once = await host.exec('systemctl start comfyui-watchdog.service && journalctl -u comfyui-watchdog.service -n 3 --no-pager -o cat');
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/queue=0 .*-> stay up \[published via emf\]/);
    const emf = JSON.parse((await host.exec('sleep 0.3; tail -n 1 /var/tmp/emf.log')).stdout);
    expect(emf).toMatchObject({ InstanceId: INSTANCE, [COMFYUI_QUEUE_METRIC.name]: 0 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe(COMFYUI_QUEUE_METRIC.namespace);
    expect((await host.exec(`test -e ${POWEROFF_LOG}`)).code).not.toBe(0);

    // idle for longer than idle_minutes (10 in the example config): the next run powers off
    const idle = Math.floor(Date.now() / 1000) - 11 * 60;
    await host.exec(`echo '{"idle_since": ${idle}}' > /run/ziggie-watchdog/state.json`);
    const off = await host.exec(`systemctl start comfyui-watchdog.service; cat ${POWEROFF_LOG}`);
    expect(off.stdout).toMatch(/poweroff/);
  });

  test('a new ComfyUI ref updates the checkout, reinstalls requirements, restarts; then converges', async () => {
    const over = { comfyui: { ...vars().comfyui!, ref: fx.refs.v2 } };
    const { report, out } = await play('ref bump', over);
    if (!report.ok) throw new Error(out.text());
    const changed = report.hosts[0]!.tasks.filter((t) => t.changed).map((t) => t.name);
    expect(changed).toEqual(expect.arrayContaining([
      expect.stringMatching(/^git .*ComfyUI\.git @ v0\.0\.2-test/),
      'pip install -r /opt/comfyui/ComfyUI/requirements.txt',
      'restart comfyui',
    ]));
    expect(changed).toHaveLength(3);
    expect((await stats()).system.comfyui_version).toBe('0.0.2-test');
    expect((await host.exec('/opt/comfyui/venv/bin/python -c "import comfyui_fake_dep2"')).code).toBe(0);
    const again = await play('ref bump, again', over);
    expect(again.report.hosts[0]!.stats.changed).toBe(0);
  });
  test("the bake's remote half: SSH with the console-pinned key, the playbook, then the seal locks the builder key out", async () => {
    const target: BuilderTarget = {
      instanceId: 'i-testhost', host: '127.0.0.1', port: host.port, user: 'root', privateKeyFile: host.privateKeyPath,
      knownHostsFile: `${fx.dir}/known_hosts`, hostKeyFingerprint: host.hostKeyFingerprint,
    };
    const out = new MemoryOutput();
    const config = loadConfig(EXAMPLE_CONFIG);
    const wrong = remoteDeps({ config, output: out, log: () => undefined, sshTimeoutMs: 20_000 });
    // a different host key is never "not ready yet": refused at once
    await expect(wrong.waitForSsh({ ...target, hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43) }, new AbortController().signal))
      .rejects.toThrow(/host key/i);

    const deps = remoteDeps({ config, output: out, log: () => undefined, sshTimeoutMs: 20_000, allowCpu: true, vars: vars({ comfyui: { ...vars().comfyui!, ref: fx.refs.v2 } }) });
    const t = Date.now();
    await deps.waitForSsh(target, new AbortController().signal);
    await deps.provision(target, new AbortController().signal);
    timings.push(`bake remote half (ssh + playbook + seal) ${((Date.now() - t) / 1000).toFixed(1)} s`);
    expect(out.text()).toMatch(/PLAY comfyui-ami-seal/);
    // the builder key is gone from authorized_keys: a new SSH login is refused
    const login = await host.exec('true');
    expect(login.code).not.toBe(0);
  });
});
