/** PROVISION_TRACE=1 prints where a run spends its time to stderr: ms since the process started, and CPU ms used. */
export function trace(label: string): void {
  // read per call, not at load: a startup snapshot (bin/snapshot.mjs) would freeze a value read at load
  if (!process.env.PROVISION_TRACE) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`[trace +${performance.now().toFixed(1)}ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)}ms] ${label}\n`);
}
