/** PROVISION_TRACE=1 prints where a run spends its time (ms since the process started) to stderr. */
const on = !!process.env.PROVISION_TRACE;
export function trace(label: string): void {
  if (on) process.stderr.write(`[trace +${performance.now().toFixed(1)}ms] ${label}\n`);
}
