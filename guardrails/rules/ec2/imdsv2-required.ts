import { blocks, fail, launchTemplateOf } from '../../lib';
import type { GuardrailRule } from '../../types';

export const ec2Imdsv2Required: GuardrailRule = {
  id: 'EC2-IMDSV2-REQUIRED',
  area: 'ec2',
  why: 'IMDSv1 answers unauthenticated GETs, so one SSRF bug in ComfyUI or a custom node hands out the instance role\'s credentials.',
  fix: 'Set metadata_options { http_tokens = "required" } on the instance or launch template.',
  check(resource, context) {
    if (!['aws_instance', 'aws_launch_template'].includes(resource.type)) return 'not-applicable';
    // An instance's own metadata_options win; without them it inherits its launch template's.
    const own = blocks(resource.config.metadata_options);
    const options = own.length > 0 || resource.type !== 'aws_instance'
      ? own : blocks(launchTemplateOf(resource, context)?.config.metadata_options);
    const ok = options.some((m) => m.http_tokens === 'required' || m.http_endpoint === 'disabled');
    return ok ? 'compliant' : fail('metadata_options.http_tokens is not "required"');
  },
};
