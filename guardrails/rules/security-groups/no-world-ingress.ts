import { fail, ingressRulesOf, WORLD_CIDRS } from '../../lib';
import type { GuardrailRule } from '../../types';

export const sgNoWorldIngress: GuardrailRule = {
  id: 'SG-NO-WORLD-INGRESS',
  area: 'security-groups',
  why: 'Ingress from 0.0.0.0/0 or ::/0 exposes the port to every scanner on the internet.',
  fix: 'Admit only the addresses that need it, e.g. the VPS /32 (config vps.publicIp).',
  check(resource) {
    const rules = ingressRulesOf(resource);
    if (rules === undefined) return 'not-applicable';
    const open = rules.filter((r) => r.cidrs.some((c) => WORLD_CIDRS.includes(c)));
    return open.length === 0 ? 'compliant'
      : fail(open.map((r) => `${r.protocol} ${r.fromPort ?? '*'}-${r.toPort ?? '*'} from ${r.cidrs.filter((c) => WORLD_CIDRS.includes(c)).join(', ')}`).join('; '));
  },
};
