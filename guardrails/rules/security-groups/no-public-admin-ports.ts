import { coversPort, fail, ingressRulesOf, prefixLength } from '../../lib';
import type { GuardrailRule } from '../../types';

const ADMIN_PORTS = [22, 3389];

/**
 * No wider than a /24 (IPv4) or a /64 (IPv6): an operator's office or home network, not a provider's range.
 * provision:vps applies the same test to vps.sshAllowlist before it renders ufw and fail2ban rules.
 */
export function adminCidrNarrowEnough(cidr: string): boolean {
  const bits = prefixLength(cidr);
  if (bits === undefined) return false;
  return cidr.includes(':') ? bits >= 64 : bits >= 24;
}

export const sgNoPublicAdminPorts: GuardrailRule = {
  id: 'SG-NO-PUBLIC-ADMIN-PORTS',
  area: 'security-groups',
  why: 'SSH and RDP are the most attacked ports; open to a wide range they invite brute force and exploits.',
  fix: 'Admit SSH/RDP only from operator CIDRs no wider than /24 (config vps.sshAllowlist), or use SSM Session Manager.',
  check(resource) {
    const rules = ingressRulesOf(resource);
    if (rules === undefined) return 'not-applicable';
    const problems = rules.flatMap((r) => ADMIN_PORTS.filter((p) => coversPort(r, p))
      .flatMap((p) => r.cidrs.filter((c) => !adminCidrNarrowEnough(c)).map((c) => `port ${p} from ${c}`)));
    return problems.length === 0 ? 'compliant' : fail(problems.join('; '));
  },
};
