/** The bake's and the playbook's smaller parts, on their own. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { CleanupStack } from '../../../ami/cleanup';
import { ed25519Fingerprint, parseConsoleFingerprints } from '../../../ami/hostkey';
import { Progress, formatMs } from '../../../ami/progress';
import { builderInventory, writeKeyFile } from '../../../ami/remote';
import { InterruptedError, WaitTimeoutError, poll, raceInterrupt, realSleep } from '../../../ami/wait';
import { GPU_UTILIZATION_METRIC } from '../../../shared/gpu-signals';
import {
  comfyAmiVarsSchema, comfyuiAmiPlaybook, comfyuiTasks, parseComfyAmiCli, playbookHash, sealPlaybook, varsFromConfig,
} from '../../../playbooks/comfyui-ami';
import { cloudwatchAgentConfig, comfyuiUnit, torchPipArgs, watchdogService, watchdogTimer } from '../../../playbooks/comfyui/render';
import { flattenTasks } from '../../../provision/playbook';

const config = loadConfig(EXAMPLE_CONFIG);

describe('the private key file', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(path.join(tmpdir(), 'keytest-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('is 0600 in a fresh 0700 directory, and remove() deletes both (and the known_hosts beside it)', () => {
    const k = writeKeyFile('-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----', root);
    expect(statSync(k.path).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(k.path)).mode & 0o777).toBe(0o700);
    expect(readFileSync(k.path, 'utf8').endsWith('-----END OPENSSH PRIVATE KEY-----\n')).toBe(true);
    expect(path.dirname(k.knownHostsPath)).toBe(path.dirname(k.path));
    writeFileSync(k.knownHostsPath, 'x\n');
    k.remove();
    expect(existsSync(path.dirname(k.path))).toBe(false);
    k.remove(); // idempotent
  });

  test('two keys never share a file', () => {
    const a = writeKeyFile('a', root);
    const b = writeKeyFile('b', root);
    expect(a.path).not.toBe(b.path);
  });
});

describe('host key fingerprints from the console', () => {
  const fp = (c: string) => 'SHA256:' + c.repeat(43);
  const block = (lines: string[]) => ['-----BEGIN SSH HOST KEY FINGERPRINTS-----', ...lines, '-----END SSH HOST KEY FINGERPRINTS-----'].join('\n');

  test('reads every key type, with or without the "ec2: " prefix', () => {
    const text = `[   12.3] cloud-init[800]: hello\n${block([`ec2: 256 ${fp('E')} root@ip-10-0-1-5 (ECDSA)`, `256 ${fp('D')}= root@ip (ED25519)`, `3072 ${fp('R')} root@ip (RSA)`])}\nlogin:`;
    expect(parseConsoleFingerprints(text)).toEqual([
      { bits: 256, fingerprint: fp('E'), type: 'ECDSA' },
      { bits: 256, fingerprint: fp('D'), type: 'ED25519' },
      { bits: 3072, fingerprint: fp('R'), type: 'RSA' },
    ]);
    expect(ed25519Fingerprint(text)).toBe(fp('D'));
  });

  test('nothing before cloud-init prints the block; the latest block wins (a reboot regenerates keys)', () => {
    expect(ed25519Fingerprint('booting...\n')).toBeUndefined();
    expect(ed25519Fingerprint(`${fp('X')} (ED25519) outside a block`)).toBeUndefined();
    const two = `${block([`256 ${fp('A')} r (ED25519)`])}\nreboot\n${block([`256 ${fp('B')} r (ED25519)`])}`;
    expect(ed25519Fingerprint(two)).toBe(fp('B'));
  });
});

describe('the cleanup stack', () => {
  test('unwinds newest first, goes on after a failure, reports it, runs each entry once', async () => {
    const s = new CleanupStack();
    const ran: string[] = [];
    s.push('key pair', async () => void ran.push('key'));
    s.push('group', async () => {
      ran.push('group');
      throw new Error('DependencyViolation');
    });
    const image = s.push('image', async () => void ran.push('image'));
    s.push('instance', async () => void ran.push('instance'));
    image.disarm();
    expect(s.pending()).toEqual(['instance', 'group', 'key pair']);
    const lines: string[] = [];
    expect(await s.run((l) => lines.push(l))).toEqual([{ label: 'group', error: 'DependencyViolation' }]);
    expect(ran).toEqual(['instance', 'group', 'key']);
    expect(lines).toEqual(['  removed instance', '  could NOT remove group: DependencyViolation', '  removed key pair']);
    expect(await s.run()).toEqual([]);
    expect(ran).toHaveLength(3);
  });
});

describe('waits', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number, signal?: AbortSignal) => { if (signal?.aborted) throw new InterruptedError(); t += ms; } };
  };

  test('poll returns the first defined value, times out with what it waited for', async () => {
    const c = clock();
    let n = 0;
    expect(await poll(async () => (++n === 3 ? 'ok' : undefined), { what: 'x', intervalMs: 10, timeoutMs: 100, ...c })).toBe('ok');
    await expect(poll(async () => undefined, { what: 'the image', intervalMs: 10_000, timeoutMs: 30_000, ...c }))
      .rejects.toThrow(new WaitTimeoutError('timed out after 30 s waiting for the image'));
  });

  test('poll and realSleep stop at once on abort', async () => {
    // no wall-clock assertion: without the abort, poll would sleep its 60 s interval and the test would time out
    const ac = new AbortController();
    const p = poll(async () => undefined, { what: 'x', intervalMs: 60_000, timeoutMs: 600_000, signal: ac.signal, sleep: realSleep, now: Date.now });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
  });

  test('raceInterrupt gives up on a promise that never settles', async () => {
    const ac = new AbortController();
    const p = raceInterrupt(new Promise(() => undefined), ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
    await expect(raceInterrupt(Promise.resolve(7), ac.signal)).rejects.toBeInstanceOf(InterruptedError);
    await expect(raceInterrupt(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  });

  test('progress: elapsed per phase and in all; a phase never starts after Ctrl-C', async () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress((l) => lines.push(l), () => t);
    await p.phase('launch', undefined, async () => void (t += 1500));
    await p.phase('image', undefined, async () => void (t += 125_000)).catch(() => undefined);
    expect(lines).toEqual(['▶ launch', '✓ launch (1.5 s; 1.5 s in all)', '▶ image', '✓ image (2 min 05 s; 2 min 07 s in all)']);
    const ac = new AbortController();
    ac.abort();
    await expect(p.phase('never', ac.signal, async () => 1)).rejects.toBeInstanceOf(InterruptedError);
    expect(formatMs(59_949)).toBe('59.9 s');
    expect(formatMs(60_000)).toBe('1 min 00 s');
  });
});

describe('the builder inventory', () => {
  test('pins the host key, uses the temporary key, sudo, no agent', () => {
    const inv = builderInventory({
      instanceId: 'i-1', host: '203.0.113.9', user: 'ubuntu', privateKeyFile: '/tmp/k/builder', knownHostsFile: '/tmp/k/known_hosts',
      hostKeyFingerprint: 'SHA256:' + 'a'.repeat(43),
    });
    expect(inv.hosts[0]!.ssh).toMatchObject({
      host: '203.0.113.9', port: 22, user: 'ubuntu', privateKeyFile: '/tmp/k/builder', agent: undefined,
      hostKeyFingerprint: 'SHA256:' + 'a'.repeat(43), knownHostsFile: '/tmp/k/known_hosts', become: true,
    });
  });
});

describe('the playbook and what it renders', () => {
  const vars = comfyAmiVarsSchema.parse(varsFromConfig(config));

  test('vars come from the config: ref, port, idle window, agent URL', () => {
    expect(vars).toMatchObject({
      comfyui: { repoUrl: 'https://github.com/comfyanonymous/ComfyUI.git', ref: 'v0.3.40', torchIndexUrl: 'https://download.pytorch.org/whl/cu124' },
      comfyui_port: 8188, idle_minutes: 10, allow_cpu: false, install_cloudwatch_agent: true, start_watchdog: false,
      cloudwatch_agent_url: 'https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb',
    });
  });

  test('the task list: GPU check first, the agent installed from the configured URL, the watchdog only enabled', () => {
    const tasks = flattenTasks(comfyuiTasks(vars));
    expect(tasks[0]!.name).toBe('NVIDIA driver present (nvidia-smi -L)');
    expect(tasks.map((t) => t.module)).toEqual(expect.arrayContaining(['git', 'venv', 'pip', 'systemd', 'wait_for', 'shell']));
    expect(tasks.find((t) => t.name === 'custom node ComfyUI-Manager @ 3.31.13')).toBeDefined();
    expect(tasks.find((t) => t.name === 'install the CloudWatch agent')).toBeDefined();
    const noAgent = flattenTasks(comfyuiTasks({ ...vars, install_cloudwatch_agent: false }));
    expect(noAgent.find((t) => t.name === 'install the CloudWatch agent')).toBeUndefined();
    expect(noAgent.some((t) => t.notify.includes('configure cloudwatch agent'))).toBe(false);
  });

  test('bad vars fail with one line naming the var', () => {
    const pb = comfyuiAmiPlaybook({ ...varsFromConfig(config), comfyui_port: 80 as never });
    expect(() => pb.tasks({ name: 'h', groups: [], vars: pb.vars as never })).toThrow(/comfyui-ami vars for h: comfyui_port: /);
  });

  test('the unit: --listen 0.0.0.0 --port <port>, --cpu only without a GPU, as the comfyui user', () => {
    const gpu = comfyuiUnit({ user: 'comfyui', port: 8188, cpu: false });
    expect(gpu).toMatch(/^ExecStart=\/opt\/comfyui\/venv\/bin\/python main.py --listen 0.0.0.0 --port 8188$/m);
    expect(gpu).toMatch(/^User=comfyui$/m);
    expect(gpu).toMatch(/^WantedBy=multi-user.target$/m);
    expect(comfyuiUnit({ user: 'comfyui', port: 9000, cpu: true })).toMatch(/--port 9000 --cpu$/m);
  });

  test('the watchdog runs every minute as a sandboxed oneshot with its state in /run', () => {
    expect(watchdogTimer()).toMatch(/^OnUnitActiveSec=1min$/m);
    expect(watchdogService()).toMatch(/^Type=oneshot$/m);
    expect(watchdogService()).toMatch(/^RuntimeDirectory=ziggie-watchdog$/m);
    expect(watchdogService()).toMatch(/^ProtectSystem=strict$/m);
  });

  test('the CloudWatch agent config: the contract GPU metric, aggregated to InstanceId; the EMF listener', () => {
    const c = cloudwatchAgentConfig();
    expect(`nvidia_smi_${c.metrics.metrics_collected.nvidia_gpu.measurement[0]}`).toBe(GPU_UTILIZATION_METRIC.name);
    expect(c.metrics.namespace).toBe(GPU_UTILIZATION_METRIC.namespace);
    expect(c.metrics.aggregation_dimensions).toEqual([['InstanceId']]);
    expect(c.metrics.append_dimensions).toEqual({ InstanceId: '${aws:InstanceId}' });
    expect(c.logs.metrics_collected).toEqual({ emf: {} });
    expect(c.logs.logs_collected.files.collect_list[0]).toMatchObject({ file_path: '/var/log/comfyui/comfyui.log', log_group_name: '/ziggie/comfyui' });
  });

  test('torch: the configured index, strictly (a local dir stands in for it in tests)', () => {
    expect(torchPipArgs('https://download.pytorch.org/whl/cu124')).toEqual(['--index-url', 'https://download.pytorch.org/whl/cu124']);
    expect(torchPipArgs('/srv/wheels')).toEqual(['--no-index', '--find-links', '/srv/wheels']);
    expect(torchPipArgs('file:///srv/wheels')).toEqual(['--no-index', '--find-links', '/srv/wheels']);
  });

  test('seal: removes the login user\'s authorized_keys and cloud-init state', () => {
    const t = flattenTasks(sealPlaybook('ubuntu').tasks({ name: 'b', groups: [], vars: {} }));
    expect(t).toHaveLength(1);
  });

  test('the entry point parses its three flags beside the engine\'s options', () => {
    const argv = (...a: string[]) => ['node', 'comfyui-ami', ...a];
    const c = parseComfyAmiCli(argv('-i', 'inv.yaml', '--allow-cpu', '--config', 'c.yaml', '--check', '--no-cloudwatch-agent', '-e', 'x=1'));
    expect(c).toMatchObject({ configFile: 'c.yaml', allowCpu: true, cloudwatchAgent: false });
    expect(c.options).toMatchObject({ inventory: 'inv.yaml', check: true, extraVars: { x: '1' } });
    expect(parseComfyAmiCli(argv('-i', 'x', '--config=a.yaml'))).toMatchObject({ configFile: 'a.yaml', allowCpu: false, cloudwatchAgent: true });
  });

  test('the playbook hash covers the sources only and is stable', () => {
    expect(playbookHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(playbookHash()).toBe(playbookHash());
  });
});
