import { fail, ingressRulesOf, isAllProtocols } from '../../lib';
import type { GuardrailRule } from '../../types';

export const sgNoAllPortsIngress: GuardrailRule = {
  id: 'SG-NO-ALL-PORTS-INGRESS',
  area: 'security-groups',
  why: 'An all-protocols or all-ports rule admits every service on the host, including ones started later.',
  fix: 'Open only the port the service listens on (e.g. tcp 8188 for ComfyUI).',
  check(resource) {
    const rules = ingressRulesOf(resource);
    if (rules === undefined) return 'not-applicable';
    const wide = rules.filter((r) => isAllProtocols(r) || ((r.fromPort ?? 0) <= 1 && (r.toPort ?? 65535) >= 65535));
    return wide.length === 0 ? 'compliant' : fail(wide.map((r) => `protocol ${r.protocol} ports ${r.fromPort ?? '*'}-${r.toPort ?? '*'}`).join('; '));
  },
};
