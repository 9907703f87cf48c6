import { fail, isTrue } from '../../lib';
import type { GuardrailRule } from '../../types';

export const cloudtrailMultiRegion: GuardrailRule = {
  id: 'CLOUDTRAIL-MULTI-REGION',
  area: 'cloudtrail',
  why: 'A single-region trail misses activity in every other region, where an intruder would launch instances.',
  fix: 'Set is_multi_region_trail = true and include_global_service_events = true.',
  check(resource) {
    if (resource.type !== 'aws_cloudtrail') return 'not-applicable';
    const c = resource.config;
    if (!isTrue(c.is_multi_region_trail)) return fail('is_multi_region_trail is not true');
    return c.include_global_service_events === false ? fail('include_global_service_events is false (IAM calls missed)') : 'compliant';
  },
};
