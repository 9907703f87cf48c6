/**
 * The builder's SSH host key, learned without trusting the network: cloud-init prints the host key fingerprints
 * to the instance's console, which only the account can read (ec2:GetConsoleOutput). The bake pins the ED25519
 * fingerprint (the key type the SSH client negotiates first), so the first SSH connection is already verified.
 *
 *   ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
 *   ec2: 256 SHA256:Xb1…= root@ip-10-0-1-23 (ED25519)
 *   ec2: -----END SSH HOST KEY FINGERPRINTS-----
 */
export interface ConsoleFingerprint {
  type: 'ED25519' | 'ECDSA' | 'RSA' | 'DSA';
  bits: number;
  fingerprint: string;
}

/** Every fingerprint line inside the BEGIN/END block(s) of a console output (the latest block wins). */
export function parseConsoleFingerprints(consoleText: string): ConsoleFingerprint[] {
  const blocks = [...consoleText.matchAll(/-----BEGIN SSH HOST KEY FINGERPRINTS-----([\s\S]*?)-----END SSH HOST KEY FINGERPRINTS-----/g)];
  const last = blocks[blocks.length - 1];
  if (!last) return [];
  const out: ConsoleFingerprint[] = [];
  for (const m of last[1]!.matchAll(/(\d+)\s+(SHA256:[A-Za-z0-9+/]{43})=?\s+.*?\((ED25519|ECDSA|RSA|DSA)\)/g)) {
    out.push({ bits: Number(m[1]), fingerprint: m[2]!, type: m[3] as ConsoleFingerprint['type'] });
  }
  return out;
}

/** The ED25519 fingerprint from a console output, if cloud-init has printed it yet. */
export function ed25519Fingerprint(consoleText: string): string | undefined {
  return parseConsoleFingerprints(consoleText).find((f) => f.type === 'ED25519')?.fingerprint;
}
