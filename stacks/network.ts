import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import type { ZiggieConfig } from '../config/schema';
import { type ZiggieNames, ziggieNames } from '../shared/names';
import { assumeRolePolicy, policyDocument } from '../shared/iam-policy';
import { ZiggieStack } from './ziggie-stack';

/**
 * The VPC the GPU instance runs in: public subnets only, an internet gateway, no NAT gateway (≈ 32 USD/month plus
 * data for one instance that is off most of the day), an S3 gateway endpoint (free; S3 traffic stays on AWS's
 * network), the default security group stripped, and flow logs to CloudWatch.
 *
 * For the GPU stack: `vpc`, `publicSubnets` and `comfyuiSecurityGroup`. The subnets do NOT give instances a public
 * IP automatically (`map_public_ip_on_launch = false`); with no NAT, the GPU instance's launch template must ask
 * for one (`network_interfaces { associate_public_ip_address = true }`), which also makes ComfyUI reachable from
 * the VPS, the only address its security group admits.
 */
export class NetworkStack extends ZiggieStack {
  readonly vpc: Vpc;
  /** One public subnet per configured availability zone, in config order. */
  readonly publicSubnets: Subnet[];
  /** ComfyUI's port from the VPS's /32 only; egress HTTPS only. Attach to the GPU instance. */
  readonly comfyuiSecurityGroup: SecurityGroup;
  /** SSH from the operator CIDRs (vps.sshAllowlist) for `npm run bake-ami`'s short-lived builder instance. */
  readonly amiBuilderSecurityGroup: SecurityGroup;
  readonly flowLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config });
    const names = ziggieNames(config);
    const net = config.network;

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: net.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: names.base },
    });

    // The VPC's default security group is attached to anything launched without one: leave it with no rules.
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, tags: { Name: `${names.base}-default-unused` } });

    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: names.base } });
    const publicRoutes = new RouteTable(this, 'public-routes', { vpcId: this.vpc.id, tags: { Name: `${names.base}-public` } });
    new Route(this, 'default-route', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });

    this.publicSubnets = net.availabilityZones.map((az, i) => {
      const subnet = new Subnet(this, `public-${az}`, {
        vpcId: this.vpc.id,
        availabilityZone: az, // from config: an offline plan cannot call DescribeAvailabilityZones
        cidrBlock: net.publicSubnetCidrs[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${names.base}-public-${az}` },
      });
      new RouteTableAssociation(this, `public-${az}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
      return subnet;
    });

    new VpcEndpoint(this, 's3-endpoint', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${config.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [publicRoutes.id],
      // No endpoint policy: the default allows any bucket. Access is limited by the callers' IAM policies; a
      // bucket-restricting endpoint policy would also block the OS and driver repositories AWS serves from S3.
      tags: { Name: `${names.base}-s3` },
    });

    this.flowLogGroup = this.flowLogs(config, names);
    this.comfyuiSecurityGroup = this.comfyuiGroup(config, names);
    this.amiBuilderSecurityGroup = this.amiBuilderGroup(config, names);

    new TerraformOutput(this, 'vpc_id', { value: this.vpc.id });
    new TerraformOutput(this, 'public_subnet_ids', { value: this.publicSubnets.map((s) => s.id) });
    new TerraformOutput(this, 'comfyui_security_group_id', { value: this.comfyuiSecurityGroup.id });
    new TerraformOutput(this, 'ami_builder_security_group_id', { value: this.amiBuilderSecurityGroup.id });
  }

  private flowLogs(config: ZiggieConfig, names: ZiggieNames): CloudwatchLogGroup {
    const group = new CloudwatchLogGroup(this, 'flow-log-group', {
      name: names.flowLogGroup,
      retentionInDays: config.network.flowLogRetentionDays,
    });
    const groupArn = names.arn('logs', `log-group:${names.flowLogGroup}`);
    const role = new IamRole(this, 'flow-log-role', {
      name: names.flowLogRole,
      path: names.iamPath,
      assumeRolePolicy: assumeRolePolicy('vpc-flow-logs.amazonaws.com', config.accountId),
    });
    new IamRolePolicy(this, 'flow-log-role-policy', {
      role: role.id,
      name: 'write-flow-logs',
      // The log group exists (created above), so no logs:CreateLogGroup; streams only in this one group.
      policy: policyDocument([{
        Sid: 'WriteFlowLogsToOwnGroup',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        Resource: [groupArn, `${groupArn}:log-stream:*`],
      }]),
    });
    new FlowLog(this, 'flow-log', {
      vpcId: this.vpc.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 600,
      tags: { Name: names.base },
    });
    return group;
  }

  /**
   * ComfyUI has no authentication of its own, so only the VPS (where n8n and the API call it) may reach its port.
   * Egress is HTTPS only: with no NAT and no interface endpoints the instance reaches the AWS APIs (SSM, Secrets
   * Manager, CloudWatch, S3 via the gateway endpoint) and model hosts over 443 at public addresses, which cannot be
   * listed as CIDRs. DNS (the VPC resolver), NTP (Amazon Time Sync) and instance metadata are not subject to
   * security groups, so they need no rule. Plain HTTP is not allowed: a baked AMI needs no package mirror at run time.
   */
  private comfyuiGroup(config: ZiggieConfig, names: ZiggieNames): SecurityGroup {
    const port = config.gpu.comfyuiPort;
    const sg = new SecurityGroup(this, 'comfyui-sg', {
      name: names.comfyuiSecurityGroup,
      description: `ComfyUI ${port} from the VPS only; HTTPS out`,
      vpcId: this.vpc.id,
      tags: { Name: names.comfyuiSecurityGroup },
    });
    new VpcSecurityGroupIngressRule(this, 'comfyui-from-vps', {
      securityGroupId: sg.id,
      description: `ComfyUI from the VPS (${config.vps.publicIp})`,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      cidrIpv4: `${config.vps.publicIp}/32`,
    });
    new VpcSecurityGroupEgressRule(this, 'comfyui-https-out', {
      securityGroupId: sg.id,
      description: 'HTTPS to AWS APIs, S3 (gateway endpoint) and model downloads: public addresses, no NAT',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });
    return sg;
  }

  /**
   * The AMI builder is reached over SSH by the bake script from the operator's machine (the CIDRs allowed to SSH
   * to the VPS). It installs drivers, Python wheels and ComfyUI, so it needs HTTP (Ubuntu's apt mirrors) and HTTPS.
   */
  private amiBuilderGroup(config: ZiggieConfig, names: ZiggieNames): SecurityGroup {
    const sg = new SecurityGroup(this, 'ami-builder-sg', {
      name: names.amiBuilderSecurityGroup,
      description: 'SSH from the operator CIDRs; HTTP(S) out for package installs',
      vpcId: this.vpc.id,
      tags: { Name: names.amiBuilderSecurityGroup },
    });
    config.vps.sshAllowlist.forEach((cidr, i) => {
      new VpcSecurityGroupIngressRule(this, `ami-builder-ssh-${i}`, {
        securityGroupId: sg.id,
        description: `SSH from operator CIDR ${cidr} (vps.sshAllowlist[${i}])`,
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        cidrIpv4: cidr,
      });
    });
    for (const port of [80, 443]) {
      new VpcSecurityGroupEgressRule(this, `ami-builder-out-${port}`, {
        securityGroupId: sg.id,
        description: port === 80 ? 'HTTP to apt mirrors (packages are signature-checked)' : 'HTTPS to AWS APIs, PyPI, GitHub, model hosts',
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrIpv4: '0.0.0.0/0',
      });
    }
    return sg;
  }
}
