import { blocks, fail, providerOf } from '../../lib';
import type { GuardrailRule } from '../../types';

export const tagsProjectTag: GuardrailRule = {
  id: 'TAGS-PROJECT',
  area: 'tags',
  why: 'The Project tag drives cost reports and the IAM conditions (ec2 start/stop only where aws:ResourceTag/Project matches).',
  fix: 'Give the stack\'s aws provider default_tags with Project (ZiggieStack does, from config.tags), or tag the resource.',
  check(resource, context) {
    if (!resource.type.startsWith('aws_')) return 'not-applicable';
    const own = resource.config.tags as Record<string, unknown> | undefined;
    if (own && typeof own === 'object' && own.Project) return 'compliant';
    const provider = providerOf(resource, context);
    if (!provider) return fail(`no aws provider block "${String(resource.config.provider ?? 'aws')}"`);
    const defaults = blocks(provider.default_tags).some((d) => (d.tags as Record<string, unknown> | undefined)?.Project);
    return defaults ? 'compliant' : fail('no Project tag (neither provider default_tags nor the resource\'s tags)');
  },
};
