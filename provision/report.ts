/** The JSON report (--report FILE): every string is scrubbed of secret values before it is written. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunReport } from './runner';
import { redactDeep } from './secret';

export function reportJson(report: RunReport | RunReport[]): string {
  return JSON.stringify(redactDeep(report), null, 2) + '\n';
}

/** Written atomically (temp + rename) so a reader never sees half a report. */
export function writeReport(file: string, report: RunReport | RunReport[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, reportJson(report));
  renameSync(tmp, file);
}

/** 0 all good, 1 a host failed, 4 only unreachable hosts (Ansible uses 4 too); 2 is reserved for bad input. */
export function exitCodeOf(reports: RunReport[]): number {
  const hosts = reports.flatMap((r) => r.hosts);
  if (hosts.some((h) => h.status === 'failed')) return 1;
  if (hosts.some((h) => h.status === 'unreachable')) return 4;
  return 0;
}
