import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, EXAMPLE_CONFIG, parseConfig } from '../../../config/load';

const example = readFileSync(EXAMPLE_CONFIG, 'utf8');

/** The example config with `edit` applied to its YAML document (comments and layout kept). */
function variant(edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(example);
  edit(doc);
  return doc.toString();
}
const set = (path: (string | number)[], value: unknown) => variant((d) => d.setIn(path, value));
const remove = (path: (string | number)[]) => variant((d) => d.deleteIn(path));

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('config was accepted');
}

test('the example config is valid', () => {
  const config = parseConfig(example);
  expect(config.region).toBe('eu-north-1');
  expect(config.network.vpcCidr).toBe('10.0.0.0/16');
  expect(config.gpu).toMatchObject({ instanceType: 'g4dn.xlarge', idleMinutes: 10 });
  expect(config.budgets.thresholdsUsd).toEqual([50, 100, 150]);
  expect(config.secrets.names).toHaveLength(8);
  expect(config.tags.Project).toBe('Ziggie');
});

// Each case: a malformed config and the one line it must produce (path and problem).
const cases: Array<[string, string, RegExp]> = [
  ['VPC CIDR not a CIDR', set(['network', 'vpcCidr'], '10.0.0.0/33'), /^config error: network\.vpcCidr: not an IPv4 CIDR/],
  ['VPC CIDR with host bits', set(['network', 'vpcCidr'], '10.0.0.1/16'), /^config error: network\.vpcCidr: host bits are set/],
  ['subnet outside the VPC', set(['network', 'publicSubnetCidrs', 1], '192.168.2.0/24'), /^config error: network\.publicSubnetCidrs\[1\]: not inside the VPC 10\.0\.0\.0\/16/],
  ['overlapping subnets', set(['network', 'publicSubnetCidrs', 1], '10.0.1.0/25'), /^config error: network\.publicSubnetCidrs\[1\]: overlaps publicSubnetCidrs\[0\]/],
  ['AZ from another region', set(['network', 'availabilityZones', 1], 'us-east-1a'), /^config error: network\.availabilityZones\[1\]: not an availability zone of eu-north-1/],
  ['one AZ only', variant((d) => { d.setIn(['network', 'availabilityZones'], ['eu-north-1a']); d.setIn(['network', 'publicSubnetCidrs'], ['10.0.1.0/24']); }), /^config error: network\.availabilityZones: give at least two availability zones/],
  ['unknown region', set(['region'], 'eu-north-9'), /^config error: region: not an AWS region/],
  ['VPS IP not an IP', set(['vps', 'publicIp'], '203.0.113'), /^config error: vps\.publicIp: not an IPv4 address/],
  ['VPS IP private', set(['vps', 'publicIp'], '192.168.1.10'), /^config error: vps\.publicIp: must be a public IPv4 address/],
  ['bad e-mail', set(['budgets', 'alertEmails', 0], 'owner-at-example.com'), /^config error: budgets\.alertEmails\[0\]: not a valid e-mail address/],
  ['no budget e-mails', set(['budgets', 'alertEmails'], []), /^config error: budgets\.alertEmails: give at least one e-mail/],
  ['thresholds not increasing', set(['budgets', 'thresholdsUsd'], [50, 40, 150]), /^config error: budgets\.thresholdsUsd\[1\]: thresholds must increase/],
  ['threshold above the limit', set(['budgets', 'thresholdsUsd'], [50, 100, 200]), /^config error: budgets\.thresholdsUsd\[2\]: above monthlyLimitUsd/],
  ['not an instance type', set(['gpu', 'instanceType'], 'g4dn-xlarge'), /^config error: gpu\.instanceType: not an EC2 instance type/],
  ['GPU type without a GPU', set(['gpu', 'instanceType'], 't3.large'), /^config error: gpu\.instanceType: must be a GPU instance type/],
  ['idle window as a string', set(['gpu', 'idleMinutes'], 'ten'), /^config error: gpu\.idleMinutes: .*expected number/],
  ['missing idle window', remove(['gpu', 'idleMinutes']), /^config error: gpu\.idleMinutes: required/],
  ['typo in a key', variant((d) => { d.deleteIn(['gpu', 'idleMinutes']); d.setIn(['gpu', 'idleMinute'], 10); }), /^config error: gpu\.idleMinute: unknown key \(line \d+\) \(did you mean idleMinutes\?\)$/],
  ['unknown top-level key', set(['gpus'], { instanceType: 'g5.xlarge' }), /^config error: gpus: unknown key/],
  ['secret outside the prefix', set(['secrets', 'names', 8], 'other/prod/new-api-key'), /^config error: secrets\.names\[8\]: must sit under the common prefix ziggie\/prod\//],
  ['hostinger token outside the project', set(['secrets', 'hostingerApiToken'], 'hostinger-token'), /^config error: secrets\.hostingerApiToken: must sit under ziggie\//],
  ['container secret not declared', set(['containers', 2, 'secrets', 'N8N_ENCRYPTION_KEY'], 'ziggie/prod/nope'), /^config error: containers\[2\]\.secrets\.N8N_ENCRYPTION_KEY: "ziggie\/prod\/nope" is not in secrets\.names/],
  ['secret also set as plain env', set(['containers', 0, 'env', 'POSTGRES_PASSWORD'], 'hunter2'), /^config error: containers\[0\]\.secrets\.POSTGRES_PASSWORD: also set in env/],
  ['duplicate service', set(['containers', 1, 'name'], 'postgres'), /^config error: containers\[1\]\.name: service "postgres" is defined twice/],
  ['invalid bucket name', set(['storage', 'assetsBucket'], 'Ziggie_Assets'), /^config error: storage\.assetsBucket: not a valid S3 bucket name/],
  ['expiry before Glacier', set(['storage', 'backupsExpireAfterDays'], 10), /^config error: storage\.backupsExpireAfterDays: must be later than backupsGlacierAfterDays/],
  ['log retention CloudWatch refuses', set(['audit', 'retentionDays'], 100), /^config error: audit\.retentionDays: CloudWatch Logs accepts only/],
  ['unknown default scenario', set(['scenarios', 'default'], 'extreme'), /^config error: scenarios\.default: no scenario named "extreme"/],
  ['bad AMI id', set(['gpu', 'amiId'], 'ami-XYZ'), /^config error: gpu\.amiId: not an AMI id/],
  ['no Project tag', remove(['tags', 'Project']), /^config error: tags: must contain a Project tag/],
  ['account id too short', set(['accountId'], '1234'), /^config error: accountId: an AWS account id is 12 digits/],
  ['webhook over http', set(['gpu', 'interruptionWebhookUrl'], 'http://n8n.example.com/hook'), /^config error: gpu\.interruptionWebhookUrl: must be an https:\/\/ URL/],
];

test.each(cases)('%s → one line naming the path', (_name, text, expected) => {
  const lines = problems(text);
  expect(lines).toEqual([expect.stringMatching(expected)]);
});

test('every problem is reported at once, each on its own line with its YAML line number', () => {
  const text = variant((d) => {
    d.setIn(['network', 'vpcCidr'], 'not-a-cidr');
    d.setIn(['budgets', 'thresholdsUsd'], [50, 40, 150]);
    d.setIn(['gpu', 'idleMinutes'], -1);
  });
  const lines = problems(text);
  expect(lines).toHaveLength(3);
  expect(lines.every((l) => /^config error: [\w.[\]]+: .+ \(line \d+\)$/.test(l))).toBe(true);
});

test('a YAML syntax error is one line with its position', () => {
  expect(problems('region: [eu-north-1\n')).toEqual([expect.stringMatching(/^config error: line \d+ col \d+: /)]);
});

test('an empty file reports the required sections, not a crash', () => {
  const lines = problems('');
  expect(lines).toContainEqual('config error: region: required');
  expect(lines.length).toBeGreaterThan(10);
});

/** nine levels of nine aliases: 9^9 = 387 million strings if expanded */
const ALIAS_BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n') + '\n';

test('a YAML alias bomb is one config error line, not a ReferenceError stack', () => {
  expect(problems(ALIAS_BOMB)).toEqual(['config error: test.yaml: more than 100 alias expansions (a YAML alias bomb?): refused']);
});

test('a handful of aliases (below the cap) is still a config like any other', () => {
  const withAlias = example.replace(/^(\s*)(sshAllowlist:)(.*)$/m, '$1$2 &allow$3') + '\nx-extra: *allow\n';
  expect(problems(withAlias)).toEqual([expect.stringMatching(/^config error: x-extra: unknown key/)]);
});
