import { blocks, fail, isTrue, launchTemplateOf } from '../../lib';
import type { GuardrailRule, RuleResult, Verdict } from '../../types';

export const ec2EbsEncrypted: GuardrailRule = {
  id: 'EC2-EBS-ENCRYPTED',
  area: 'ec2',
  why: 'Unencrypted volumes and their snapshots expose models, outputs and any cached credentials at rest.',
  fix: 'Declare every block device with encrypted = true (launch templates: block_device_mappings.ebs.encrypted).',
  check(resource, context) {
    const byDefault = context.resources.some((r) => r.type === 'aws_ebs_encryption_by_default' && r.config.enabled !== false);
    const c = resource.config;
    switch (resource.type) {
      case 'aws_ebs_volume':
        return isTrue(c.encrypted) || byDefault ? 'compliant' : fail('encrypted is not true');
      case 'aws_instance': {
        const devices = [...blocks(c.root_block_device), ...blocks(c.ebs_block_device)];
        // Without its own block devices an instance gets its launch template's.
        const template = launchTemplateOf(resource, context);
        if (devices.length === 0 && template) return launchTemplateVerdict(template.config, byDefault);
        if (devices.length === 0) return byDefault ? 'compliant' : fail('no root_block_device declared with encrypted = true');
        const plain = devices.filter((d) => !isTrue(d.encrypted));
        return plain.length === 0 || byDefault ? 'compliant' : fail(`${plain.length} block device(s) without encrypted = true`);
      }
      case 'aws_launch_template':
        return launchTemplateVerdict(c, byDefault);
      default:
        return 'not-applicable';
    }
  },
};

function launchTemplateVerdict(c: Record<string, unknown>, byDefault: boolean): Verdict | RuleResult {
  const ebs = blocks(c.block_device_mappings).flatMap((m) => blocks(m.ebs).map((e) => ({ name: m.device_name, e })));
  if (ebs.length === 0) return byDefault ? 'compliant' : fail('no block_device_mappings declared with ebs.encrypted = true');
  const plain = ebs.filter(({ e }) => !isTrue(e.encrypted));
  return plain.length === 0 || byDefault ? 'compliant' : fail(`not encrypted: ${plain.map(({ name }) => String(name)).join(', ')}`);
}
