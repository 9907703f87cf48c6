import type { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface SpotWarningsProps {
  readonly instanceId: string;
  /** Every warning is e-mailed through this topic. */
  readonly alertsTopicArn: string;
}

const WARNINGS = [
  ['interruption', 'EC2 Spot Instance Interruption Warning'],
  ['rebalance', 'EC2 Instance Rebalance Recommendation'],
] as const;

/** EventBridge rules for the GPU's Spot interruption warning and rebalance recommendation, e-mailed. */
export class SpotWarnings extends FlatConstruct {
  /** By key (`spot-interruption`, `spot-rebalance`): attach more targets, e.g. the gpu-control webhook. */
  readonly rules: ReadonlyMap<string, CloudwatchEventRule>;

  constructor(scope: Construct, id: string, props: SpotWarningsProps) {
    super(scope, id);
    const rules = new Map<string, CloudwatchEventRule>();
    for (const [key, detailType] of WARNINGS) {
      const rule = new CloudwatchEventRule(this, `spot-${key}`, {
        name: GPU_NAMES.spotRule(key),
        description: `${detailType} for the ComfyUI GPU`,
        eventPattern: JSON.stringify({
          source: ['aws.ec2'],
          'detail-type': [detailType],
          detail: { 'instance-id': [props.instanceId] },
        }),
      });
      new CloudwatchEventTarget(this, `spot-${key}-email`, { rule: rule.name, arn: props.alertsTopicArn });
      rules.set(`spot-${key}`, rule);
    }
    this.rules = rules;
  }
}
