/**
 * Run a real entry point (`npm run -s <script> -- args`) as an operator would, in a sandbox: HOME, the ops state
 * dir and the synth output dir are fresh empty directories, and AWS/Hostinger point at a closed local port (so a
 * call that should never be made fails differently from a usage error). At most two run at a time: each start-up
 * costs seconds on a shared machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
const MAX_PARALLEL = 2;
let running = 0;
const waiting: (() => void)[] = [];

export interface EntryResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** files the run left in its sandbox (HOME, state dir, outdir): [] means nothing written */
  written: string[];
  ms: number;
}

async function slot(): Promise<() => void> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)));
}

export async function runEntry(script: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<EntryResult> {
  const release = await slot();
  const sandbox = mkdtempSync(path.join(os.tmpdir(), 'entry-'));
  const home = path.join(sandbox, 'home');
  const state = path.join(sandbox, 'state');
  const outdir = path.join(sandbox, 'cdktf.out');
  const t0 = Date.now();
  try {
    const child = spawn('npm', ['run', '-s', script, '--', ...args], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH!, HOME: home, ZIGGIE_STATE_DIR: state, CDKTF_OUTDIR: outdir, NO_COLOR: '1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret', AWS_REGION: 'eu-north-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_EC2_METADATA_DISABLED: 'true', HOSTINGER_API_URL: 'http://127.0.0.1:9',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        npm_config_cache: path.join(os.tmpdir(), 'entry-npm-cache'), npm_config_update_notifier: 'false',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    return { code, stdout, stderr, written: [home, state, outdir].flatMap((d) => filesUnder(d).map((f) => path.join(path.basename(d), f))), ms: Date.now() - t0 };
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
    release();
  }
}
