/**
 * cloud:deploy / cloud:rollback to AWS through the pipeline: a built frontend published to the assets bucket
 * prefix (only changed objects, content types, cache headers), exactly the overwritten paths invalidated.
 * S3 and CloudFront behind aws-sdk-client-mock, with an in-memory bucket behind the mock.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ControlError } from '../../../control/errors';
import { cacheControlFor, contentTypeFor } from '../../../ops/deploy/frontend';
import { auditRecords, resetAuditMocks, testPlane, type TestPlane } from './helpers';

const s3 = mockClient(S3Client);
const cloudfront = mockClient(CloudFrontClient);
let bucket: Map<string, { body: string; contentType?: string; cacheControl?: string }>;
let t: TestPlane;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function build(version: string, files: Record<string, string>): void {
  for (const [rel, body] of Object.entries(files)) {
    const file = path.join(t.dir, 'artifacts', 'web', version, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
}

const deploy = (params: Record<string, unknown>, capability = 'cloud:deploy') =>
  t.plane.pipeline.call<any>({ agent: 'agent-chen', capability, params: { provider: 'aws', app: 'web', ...params }, surface: 'http' });

beforeEach(() => {
  s3.reset();
  cloudfront.reset();
  resetAuditMocks();
  bucket = new Map();
  s3.on(ListObjectsV2Command).callsFake(async (input: { Prefix: string }) => ({
    Contents: [...bucket].filter(([k]) => k.startsWith(input.Prefix)).map(([Key, o]) => ({ Key, ETag: `"${md5(o.body)}"` })),
  }));
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const o = bucket.get(input.Key);
    if (!o) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => o.body } };
  });
  s3.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: Buffer | string; ContentType: string; CacheControl: string }) => {
    bucket.set(input.Key, { body: input.Body.toString(), contentType: input.ContentType, cacheControl: input.CacheControl });
    return { ETag: 'x' };
  });
  cloudfront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I2J3K4L5', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
  t = testPlane({ patch: (c) => { c.controlCenter.deploy.frontend.cloudfrontDistributionId = 'E2ABCDEFGHIJKL'; } });
  build('v1', { 'index.html': '<h1>v1</h1>', 'assets/app.3f2a9c1b.js': 'console.log(1)', 'assets/logo.svg': '<svg/>', 'robots.txt': 'User-agent: *' });
  build('v2', { 'index.html': '<h1>v2</h1>', 'assets/app.7b7c1d2e.js': 'console.log(2)', 'assets/logo.svg': '<svg/>', 'robots.txt': 'User-agent: *' });
});

test('content types and cache headers: fingerprinted assets for a year, HTML revalidated, the rest briefly', () => {
  expect(cacheControlFor('frontend/web/assets/app.3f2a9c1b.js')).toBe('public, max-age=31536000, immutable');
  expect(cacheControlFor('frontend/web/assets/chunk-AB12CD34.css')).toBe('public, max-age=31536000, immutable');
  expect(cacheControlFor('frontend/web/index.html')).toBe('public, max-age=0, must-revalidate');
  expect(cacheControlFor('frontend/web/assets/logo.svg')).toBe('public, max-age=300');
  expect(cacheControlFor('frontend/web/assets/background-image.png')).toBe('public, max-age=300');
  expect(contentTypeFor('a/index.html')).toBe('text/html; charset=utf-8');
  expect(contentTypeFor('a/app.js')).toBe('text/javascript; charset=utf-8');
  expect(contentTypeFor('a/logo.svg')).toBe('image/svg+xml; charset=utf-8');
  expect(contentTypeFor('a/font.woff2')).toBe('font/woff2');
  expect(contentTypeFor('a/blob.unknownext')).toBe('application/octet-stream');
});

test('first publish: every object uploaded with its type and cache header; nothing to invalidate (nothing was cached)', async () => {
  const r = await deploy({ version: 'v1' });
  expect(r.result).toMatchObject({ provider: 'aws', changed: true, from: null, to: 'v1', unchanged: 0, invalidation: { paths: [], id: null } });
  expect(r.result.uploaded.map((u: { key: string }) => u.key).sort()).toEqual(['frontend/web/assets/app.3f2a9c1b.js', 'frontend/web/assets/logo.svg', 'frontend/web/index.html', 'frontend/web/robots.txt']);
  expect(bucket.get('frontend/web/index.html')).toMatchObject({ contentType: 'text/html; charset=utf-8', cacheControl: 'public, max-age=0, must-revalidate' });
  expect(bucket.get('frontend/web/assets/app.3f2a9c1b.js')).toMatchObject({ cacheControl: 'public, max-age=31536000, immutable' });
  expect(JSON.parse(bucket.get('frontend/web/.ziggie-release.json')!.body)).toMatchObject({ version: 'v1' });
  expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
});

test('dry run shows exactly what would change and changes nothing; the real run uploads only changed objects and invalidates only overwritten paths', async () => {
  await deploy({ version: 'v1' });
  const puts = s3.commandCalls(PutObjectCommand).length;
  const dry = await deploy({ version: 'v2', dryRun: true });
  expect(dry.result).toMatchObject({ dryRun: true, changed: true, from: 'v1', to: 'v2', unchanged: 2 });
  expect(dry.result.uploaded.map((u: { key: string; reason: string }) => `${u.reason} ${u.key}`).sort()).toEqual(['changed frontend/web/index.html', 'new frontend/web/assets/app.7b7c1d2e.js']);
  expect(dry.result.invalidation.paths).toEqual(['/frontend/web/', '/frontend/web/index.html']);
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(puts);
  expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);

  const real = await deploy({ version: 'v2' });
  expect(real.result.uploaded).toHaveLength(2);
  expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key).slice(puts).sort()).toEqual(['frontend/web/.ziggie-release.json', 'frontend/web/assets/app.7b7c1d2e.js', 'frontend/web/index.html']);
  const inv = cloudfront.commandCalls(CreateInvalidationCommand);
  expect(inv).toHaveLength(1);
  expect(inv[0]!.args[0].input).toMatchObject({ DistributionId: 'E2ABCDEFGHIJKL', InvalidationBatch: { Paths: { Quantity: 2, Items: ['/frontend/web/', '/frontend/web/index.html'] } } });
  expect(real.result.invalidation.id).toBe('I2J3K4L5');
  // publishing the same build again changes nothing
  const again = await deploy({ version: 'v2' });
  expect(again.result).toMatchObject({ changed: false, uploaded: [], unchanged: 4 });
});

test('rollback re-publishes the previous release; audited with the agent; the wrong agent is refused', async () => {
  await deploy({ version: 'v1' });
  await deploy({ version: 'v2' });
  const r = await deploy({}, 'cloud:rollback');
  expect(r.result).toMatchObject({ from: 'v2', to: 'v1' });
  expect(bucket.get('frontend/web/index.html')!.body).toBe('<h1>v1</h1>');
  const trail = auditRecords().filter((x) => x.detail?.phase === 'result').map((x) => [x.action, x.target, x.detail?.agent]);
  expect(trail).toEqual([['cloud:deploy', 'aws/web@v1', 'agent-chen'], ['cloud:deploy', 'aws/web@v2', 'agent-chen'], ['cloud:rollback', 'aws/web', 'agent-chen']]);
  await expect(t.plane.pipeline.call({ agent: 'agent-marcus', capability: 'cloud:deploy', params: { provider: 'aws', app: 'web', version: 'v1' }, surface: 'cli' }))
    .rejects.toThrow(/agent-marcus may use cloud:deploy only with provider in \[hostinger\]/);
});

test('a version with no build: one line naming where it looked, nothing uploaded', async () => {
  const err = await deploy({ version: 'v9' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ControlError);
  expect((err as ControlError).message).toBe(`no build of web v9 at ${path.join(t.dir, 'artifacts', 'web', 'v9')}`);
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});
