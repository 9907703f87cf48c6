/** PROVISION_TRACE=1 prints where a run spends its time (ms since the process started) to stderr. */
export function trace(label: string): void {
  // read per call, not at load: a startup snapshot (bin/snapshot.mjs) would freeze a value read at load
  if (process.env.PROVISION_TRACE) process.stderr.write(`[trace +${performance.now().toFixed(1)}ms] ${label}\n`);
}
