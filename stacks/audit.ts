import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Cloudtrail } from '@cdktf/provider-aws/lib/cloudtrail';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { PrivateBucket } from '../modules/private-bucket';
import { ZiggieStack } from './ziggie-stack';

/**
 * Who did what: a multi-region CloudTrail trail with log-file validation into its own private bucket, and the
 * `/ziggie/infrastructure-audit` log group that the ops CLI writes every mutating call to.
 *
 * CloudTrail → CloudWatch Logs delivery is not enabled: the trail's S3 copy is the record, and streaming every
 * management event into Logs costs ingestion for little gain at this size. Add `cloudWatchLogsGroupArn` and a role
 * if alarms on API calls are wanted.
 */
export class AuditStack extends ZiggieStack {
  readonly trail: Cloudtrail;
  readonly trailBucket: PrivateBucket;
  readonly auditLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config });
    const names = ziggieNames(config);
    const expireDays = config.storage.auditLogExpireAfterDays;
    // Pinned to this trail (aws:SourceArn), so no other account's or trail's CloudTrail can write here.
    const fromThisTrail = { StringEquals: { 'aws:SourceArn': names.trailArn } };

    this.trailBucket = new PrivateBucket(this, 'trail-bucket', {
      bucketName: names.auditBucket,
      lifecycleRules: [{
        id: 'expire-audit-logs',
        expireAfterDays: expireDays,
        // A deleted log file stays recoverable for the whole retention period.
        noncurrentExpireAfterDays: expireDays,
      }],
      extraPolicyStatements: (arn) => [
        {
          Sid: 'CloudTrailAclCheck',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 's3:GetBucketAcl',
          Resource: arn,
          Condition: fromThisTrail,
        },
        {
          Sid: 'CloudTrailWrite',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: `${arn}/AWSLogs/${config.accountId}/*`,
          Condition: { StringEquals: { ...fromThisTrail.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' } },
        },
      ],
    });

    this.trail = new Cloudtrail(this, 'trail', {
      name: config.audit.trailName,
      s3BucketName: this.trailBucket.bucket.bucket,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      enableLogging: true,
      // CloudTrail checks its bucket access when the trail is created.
      dependsOn: [this.trailBucket.policy],
    });

    this.auditLogGroup = new CloudwatchLogGroup(this, 'audit-log-group', {
      name: config.audit.logGroup,
      retentionInDays: config.audit.retentionDays,
    });

    new TerraformOutput(this, 'trail_bucket', { value: this.trailBucket.bucket.bucket });
    new TerraformOutput(this, 'audit_log_group', { value: this.auditLogGroup.name });
  }
}
