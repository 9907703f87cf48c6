import type { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { ZiggieConfig } from '../../config/schema';
import { GPU_ROLE_TAG } from '../../shared/gpu-signals';
import { assumeRolePolicy, policyDocument } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface GpuInstanceProps {
  readonly gpu: ZiggieConfig['gpu'];
  /** Tags for the instance, its volumes and interfaces (the provider's default tags do not reach those). */
  readonly tags: Record<string, string>;
  /** A public subnet: the VPS reaches ComfyUI on the instance's public IP (there is no NAT, by design). */
  readonly subnetId: string;
  /** Admits 8188 from the VPS /32 only. */
  readonly securityGroupId: string;
  /** The instance may upload generated images under `comfyui/generated/` of this bucket. */
  readonly assetsBucket: string;
}

/**
 * The ComfyUI GPU: a persistent Spot instance from a launch template, stopped (never terminated) on shutdown or
 * interruption so its disk survives, with an instance role that can only publish its metrics, ship its logs and
 * upload generated images.
 */
export class GpuInstance extends FlatConstruct {
  readonly instance: Instance;

  constructor(scope: Construct, id: string, props: GpuInstanceProps) {
    super(scope, id);
    const { gpu } = props;
    const imageId = gpu.amiId ?? new DataAwsSsmParameter(this, 'ami', { name: gpu.amiSsmParameter }).value;

    const role = new IamRole(this, 'instance-role', {
      name: GPU_NAMES.instanceRole,
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
      managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'],
    });
    const logs = new CloudwatchLogGroup(this, 'comfyui-logs', {
      name: GPU_NAMES.comfyuiLogGroup,
      retentionInDays: 30,
    });
    new IamRolePolicy(this, 'instance-policy', {
      role: role.name,
      name: 'comfyui-minimal',
      policy: policyDocument([
        {
          Sid: 'PublishGpuAndQueueMetrics',
          Effect: 'Allow',
          Action: 'cloudwatch:PutMetricData',
          // PutMetricData has no resource type; the namespace condition is how it is scoped.
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': ['CWAgent', 'Ziggie/ComfyUI'] } },
        },
        {
          Sid: 'ShipComfyuiLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Resource: [`${logs.arn}:*`],
        },
        {
          Sid: 'UploadGeneratedAssets',
          Effect: 'Allow',
          Action: ['s3:PutObject'],
          Resource: [`arn:aws:s3:::${props.assetsBucket}/comfyui/generated/*`],
        },
        // The job worker reads its jobs' state.json / result.json back (a retry resumes, a duplicate is skipped);
        // ListBucket makes a missing key a 404 rather than a 403.
        { Sid: 'ReadJobResults', Effect: 'Allow', Action: 's3:GetObject', Resource: [`arn:aws:s3:::${props.assetsBucket}/comfyui/generated/*`] },
        {
          Sid: 'ListJobResults',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: [`arn:aws:s3:::${props.assetsBucket}`],
          Condition: { StringLike: { 's3:prefix': 'comfyui/generated/*' } },
        },
      ]),
    });
    const profile = new IamInstanceProfile(this, 'instance-profile', {
      name: GPU_NAMES.instanceRole,
      role: role.name,
    });

    const template = new LaunchTemplate(this, 'launch-template', {
      name: GPU_NAMES.instance,
      description: 'ComfyUI on a persistent Spot GPU, stopped when idle',
      imageId,
      instanceType: gpu.instanceType,
      updateDefaultVersion: true,
      iamInstanceProfile: { arn: profile.arn },
      // Spot instances must stop, not terminate, on shutdown so the watchdog's poweroff keeps the disk.
      instanceInitiatedShutdownBehavior: 'stop',
      instanceMarketOptions: {
        marketType: 'spot',
        spotOptions: {
          spotInstanceType: 'persistent',
          instanceInterruptionBehavior: 'stop',
          maxPrice: gpu.spot.maxPriceUsdPerHour.toFixed(4),
        },
      },
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      // One-minute CPU datapoints: the idle alarm counts minutes.
      monitoring: { enabled: true },
      networkInterfaces: [{
        deviceIndex: 0,
        subnetId: props.subnetId,
        securityGroups: [props.securityGroupId],
        // Public, because the VPS reaches ComfyUI over the internet (8188 from its /32 only); the address is
        // released while stopped, so it costs only while running.
        associatePublicIpAddress: 'true',
        deleteOnTermination: 'true',
      }],
      blockDeviceMappings: [{
        deviceName: '/dev/sda1',
        ebs: { volumeSize: gpu.rootVolumeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
      }],
      tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({
        resourceType,
        tags: { ...props.tags, Name: GPU_NAMES.instance, [GPU_ROLE_TAG.key]: GPU_ROLE_TAG.value },
      })),
    });

    if (gpu.fallback.allowOnDemand) {
      // The capacity fallback's last resort (gpu-control/fallback.ts): the same GPU on-demand, for a stand-in that
      // terminates when it powers itself off. RunInstances cannot take a template's Spot option away, hence a twin.
      new LaunchTemplate(this, 'launch-template-on-demand', {
        name: `${GPU_NAMES.instance}-on-demand`,
        description: 'ComfyUI GPU stand-in, on-demand (capacity fallback; config gpu.fallback.allowOnDemand)',
        imageId,
        instanceType: gpu.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        instanceInitiatedShutdownBehavior: 'terminate',
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
        monitoring: { enabled: true },
        blockDeviceMappings: [{
          deviceName: '/dev/sda1',
          ebs: { volumeSize: gpu.rootVolumeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
        }],
        tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({
          resourceType,
          tags: { ...props.tags, Name: `${GPU_NAMES.instance}-stand-in`, [GPU_ROLE_TAG.key]: GPU_ROLE_TAG.value },
        })),
      });
    }

    this.instance = new Instance(this, 'instance', {
      launchTemplate: { id: template.id, version: '$Latest' },
      tags: { Name: GPU_NAMES.instance, [GPU_ROLE_TAG.key]: GPU_ROLE_TAG.value },
    });
  }
}
