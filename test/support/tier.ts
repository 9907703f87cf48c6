/**
 * A test tier that needs an engine (terraform, the Debian test host) either runs for real or says loudly why not.
 * It never passes in silence: a skipped tier prints `SKIPPED: <tier>: <reason>` to stderr and registers a
 * `test.skip` so jest's summary counts it as skipped, not passed.
 */
export function tierSkipReason(tier: string, reason: string | undefined): boolean {
  if (!reason) return false;
  process.stderr.write(`SKIPPED: ${tier}: ${reason}\n`);
  test.skip(`SKIPPED: ${tier}: ${reason}`, () => undefined);
  return true;
}

/** `describe` that runs only if `reason` is undefined; otherwise reports the tier as skipped. */
export function describeTier(tier: string, reason: string | undefined, body: () => void): void {
  if (tierSkipReason(tier, reason)) return;
  describe(tier, body);
}
