/** Live output: one line per task and host as it finishes, diffs under it, and an Ansible-like RECAP. */
import { redact } from './secret';
import type { TaskStatus } from './task';

export interface HostStats {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
}

export interface Output {
  play(name: string, hosts: string[], mode: { check: boolean; diff: boolean }): void;
  task(host: string, task: string, status: TaskStatus, ms: number, msg?: string, handler?: boolean): void;
  diff(host: string, text: string): void;
  notice(host: string, msg: string): void;
  unreachable(host: string, msg: string): void;
  recap(stats: Map<string, HostStats & { ms: number }>, totalMs: number): void;
}

const COLORS: Record<string, string> = { ok: '32', changed: '33', failed: '31', skipped: '36', unreachable: '31;1', dim: '2', bold: '1' };

export class ConsoleOutput implements Output {
  private readonly color: boolean;
  private hostWidth = 8;
  constructor(
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
    color?: boolean,
  ) {
    this.color = color ?? (!!process.stdout.isTTY && !process.env.NO_COLOR);
  }
  private c(kind: string, s: string): string {
    return this.color && COLORS[kind] ? `\x1b[${COLORS[kind]}m${s}\x1b[0m` : s;
  }
  private line(s: string): void {
    this.write(redact(s) + '\n');
  }
  play(name: string, hosts: string[], mode: { check: boolean; diff: boolean }): void {
    this.hostWidth = Math.min(24, Math.max(6, ...hosts.map((h) => h.length)));
    const flags = [mode.check ? 'check mode: nothing will be changed' : '', mode.diff ? 'diff' : ''].filter(Boolean).join(', ');
    this.line(this.c('bold', `PLAY ${name} [${hosts.length} host${hosts.length === 1 ? '' : 's'}]${flags ? ` (${flags})` : ''}`));
  }
  task(host: string, task: string, status: TaskStatus, ms: number, msg?: string, handler?: boolean): void {
    const st = status === 'failed' ? 'FAILED' : status;
    const label = (handler ? 'handler: ' : '') + task;
    const detail = msg ? (status === 'failed' ? `: ${msg}` : ` - ${msg}`) : '';
    this.line(`${host.padEnd(this.hostWidth)}  ${this.c(status, st.padEnd(7))}  ${label}${detail}  ${this.c('dim', `${ms}ms`)}`);
  }
  diff(host: string, text: string): void {
    const body = text
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => {
        const k = l.startsWith('+') && !l.startsWith('+++') ? 'ok' : l.startsWith('-') && !l.startsWith('---') ? 'failed' : l.startsWith('@@') ? 'skipped' : '';
        return `${' '.repeat(this.hostWidth + 2)}${k ? this.c(k, l) : l}`;
      })
      .join('\n');
    this.line(body);
  }
  notice(host: string, msg: string): void {
    this.line(`${host.padEnd(this.hostWidth)}  ${this.c('dim', 'note   ')}  ${msg}`);
  }
  unreachable(host: string, msg: string): void {
    this.line(`${host.padEnd(this.hostWidth)}  ${this.c('unreachable', 'UNREACHABLE')}  ${msg}`);
  }
  recap(stats: Map<string, HostStats & { ms: number }>, totalMs: number): void {
    this.line(this.c('bold', 'RECAP'));
    for (const [h, s] of stats) {
      const col = (k: keyof HostStats, v: number): string => {
        const t = `${k}=${v}`;
        return v > 0 && k !== 'ok' ? this.c(k, t) : t;
      };
      this.line(
        `${h.padEnd(this.hostWidth)}  ${col('ok', s.ok)}  ${col('changed', s.changed)}  ${col('unreachable', s.unreachable)}  ${col('failed', s.failed)}  ${col('skipped', s.skipped)}  ${this.c('dim', `${(s.ms / 1000).toFixed(2)}s`)}`,
      );
    }
    this.line(this.c('dim', `total ${(totalMs / 1000).toFixed(2)}s`));
  }
}

/** Collects nothing and prints nothing (library use, tests). */
export class SilentOutput implements Output {
  play(): void {}
  task(): void {}
  diff(): void {}
  notice(): void {}
  unreachable(): void {}
  recap(): void {}
}

/** Records every line (redacted) for tests. */
export class MemoryOutput extends ConsoleOutput {
  readonly lines: string[];
  constructor() {
    const lines: string[] = [];
    super((s) => lines.push(...s.replace(/\n$/, '').split('\n')), false);
    this.lines = lines;
  }
  text(): string {
    return this.lines.join('\n');
  }
}
