import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecOptions, ExecResult, Remote } from '../../../provision/connection';
import { wrapCommand } from '../../../provision/connection';
import type { Inventory } from '../../../provision/inventory';
import { parseInventory } from '../../../provision/inventory';

/** Runs remote commands with the local /bin/sh, exactly as the SSH connection would wrap them. */
export class LocalRemote implements Remote {
  readonly calls: string[] = [];
  closed = false;
  constructor(readonly name = 'local') {}
  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(script);
    const cmd = wrapCommand(script, { enabled: false, user: 'root', loginUser: 'root' });
    return new Promise((resolve, reject) => {
      const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.stderr.on('data', (d: Buffer) => err.push(d));
      p.on('error', reject);
      // a script that exits before reading its stdin closes the pipe first: not an error of the command
      p.stdin.on('error', () => undefined);
      p.on('close', (code, signal) => resolve({ code, signal: signal ?? undefined, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
      p.stdin.end(opts.stdin ?? '');
    });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export function tempDir(prefix = 'prov-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function inventoryOf(hosts: string[], extra = ''): Inventory {
  const yml = `all:\n  vars:\n    ansible_ssh_private_key_file: /nonexistent/key\n  hosts:\n${hosts.map((h) => `    ${h}: {}\n`).join('')}${extra}`;
  return parseInventory(yml, '<test>');
}
