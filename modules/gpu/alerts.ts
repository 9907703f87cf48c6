import type { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { policyDocument } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface GpuAlertsProps {
  readonly accountId: string;
  /** Each gets an e-mail subscription (confirmed by its owner). */
  readonly emails: readonly string[];
}

/** The GPU's alert topic: CloudWatch alarms and EventBridge rules of this account publish, people subscribe. */
export class GpuAlerts extends FlatConstruct {
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: GpuAlertsProps) {
    super(scope, id);
    this.topic = new SnsTopic(this, 'alerts', { name: GPU_NAMES.alertsTopic });
    new SnsTopicPolicy(this, 'alerts-policy', {
      arn: this.topic.arn,
      policy: policyDocument([
        {
          Sid: 'AlarmsAndEventsPublish',
          Effect: 'Allow',
          Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
          Action: 'sns:Publish',
          Resource: this.topic.arn,
          Condition: { StringEquals: { 'aws:SourceAccount': props.accountId } },
        },
      ]),
    });
    props.emails.forEach((email, i) => {
      new SnsTopicSubscription(this, `alerts-email-${i}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email });
    });
  }
}
