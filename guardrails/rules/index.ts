import type { GuardrailRule } from '../types';
import { budgetsForecastAlert } from './budgets/forecast-alert';
import { budgetsHasNotifications } from './budgets/has-notifications';
import { cloudfrontMinimumTls } from './cloudfront/minimum-tls';
import { cloudfrontOriginHttps } from './cloudfront/origin-https';
import { cloudfrontS3OriginAccessControl } from './cloudfront/s3-origin-access-control';
import { cloudfrontViewerHttps } from './cloudfront/viewer-https';
import { cloudtrailLogFileValidation } from './cloudtrail/log-file-validation';
import { cloudtrailMultiRegion } from './cloudtrail/multi-region';
import { ec2EbsEncrypted } from './ec2/ebs-encrypted';
import { ec2Imdsv2Required } from './ec2/imdsv2-required';
import { ec2NoUserDataSecrets } from './ec2/no-user-data-secrets';
import { iamNoAccessKey } from './iam/no-access-key';
import { iamNoAdminAction } from './iam/no-admin-action';
import { iamNoNotActionAllow } from './iam/no-not-action-allow';
import { iamNoPassRoleWildcard } from './iam/no-passrole-wildcard';
import { iamNoPublicPrincipal } from './iam/no-public-principal';
import { iamNoServiceWildcard } from './iam/no-service-wildcard';
import { iamPolicyLiteral } from './iam/policy-literal';
import { iamServicePrincipalSource } from './iam/service-principal-source';
import { iamWildcardResource } from './iam/wildcard-resource';
import { logsRetention } from './logs/retention';
import { s3Encryption } from './s3/encryption';
import { s3NoPublicAcl } from './s3/no-public-acl';
import { s3OwnershipEnforced } from './s3/ownership-enforced';
import { s3PublicAccessBlock } from './s3/public-access-block';
import { s3TlsOnly } from './s3/tls-only';
import { s3Versioning } from './s3/versioning';
import { secretsNoPlaintext } from './secrets/no-plaintext';
import { secretsNoSecretVersion } from './secrets/no-secret-version';
import { secretsRecoveryWindow } from './secrets/recovery-window';
import { sqsEncryption } from './sqs/encryption';
import { sqsTlsOnly } from './sqs/tls-only';
import { sgNoAllPortsIngress } from './security-groups/no-all-ports-ingress';
import { sgNoPublicAdminPorts } from './security-groups/no-public-admin-ports';
import { sgNoWorldIngress } from './security-groups/no-world-ingress';
import { tagsProjectTag } from './tags/project-tag';
import { vpcDefaultSecurityGroupStripped } from './vpc/default-security-group-stripped';
import { vpcFlowLogs } from './vpc/flow-logs';
import { vpcNoNatGateway } from './vpc/no-nat-gateway';

/** Every rule, grouped by area. A new rule file is listed here (a unit test checks ids are unique). */
export const ALL_RULES: readonly GuardrailRule[] = [
  s3PublicAccessBlock, s3Encryption, s3Versioning, s3TlsOnly, s3NoPublicAcl, s3OwnershipEnforced,
  sgNoWorldIngress, sgNoAllPortsIngress, sgNoPublicAdminPorts,
  vpcFlowLogs, vpcNoNatGateway, vpcDefaultSecurityGroupStripped,
  ec2Imdsv2Required, ec2EbsEncrypted, ec2NoUserDataSecrets,
  iamPolicyLiteral, iamNoAdminAction, iamNoServiceWildcard, iamNoNotActionAllow, iamWildcardResource,
  iamNoPassRoleWildcard, iamNoAccessKey, iamNoPublicPrincipal, iamServicePrincipalSource,
  cloudtrailMultiRegion, cloudtrailLogFileValidation,
  logsRetention,
  cloudfrontViewerHttps, cloudfrontMinimumTls, cloudfrontS3OriginAccessControl, cloudfrontOriginHttps,
  secretsNoSecretVersion, secretsNoPlaintext, secretsRecoveryWindow,
  budgetsHasNotifications, budgetsForecastAlert,
  tagsProjectTag,
  sqsEncryption, sqsTlsOnly,
];
