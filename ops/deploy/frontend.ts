/**
 * deploy_application on AWS: publish a built frontend directory to the assets bucket under a prefix, uploading
 * only objects whose content changed (local MD5 against the S3 ETag of a single-part upload), each with its
 * content type and cache header, then invalidate exactly the CloudFront paths of objects that were overwritten
 * (new objects were never cached). A release marker (`.ziggie-release.json`) records the version and the one
 * before it, so a rollback re-publishes the previous build.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateInvalidationCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { lookup } from 'mime-types';
import { DeployError } from './hostinger';

export const RELEASE_MARKER = '.ziggie-release.json';
/** More changed paths than this: one wildcard for the prefix (CloudFront bills per path, a wildcard counts as one). */
const MAX_LISTED_PATHS = 100;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=0, must-revalidate';
const SHORT = 'public, max-age=300';

export interface LocalFile { key: string; file: string; md5: string; size: number; contentType: string; cacheControl: string }

export interface FrontendPublish {
  s3: Pick<S3Client, 'send'>;
  cloudfront: Pick<CloudFrontClient, 'send'>;
  bucket: string;
  /** Key prefix ending in `/` (e.g. `frontend/web/`). */
  prefix: string;
  distributionId?: string;
  dir: string;
  version: string;
  dryRun: boolean;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface PublishResult {
  provider: 'aws';
  bucket: string;
  prefix: string;
  version: string;
  from: string | null;
  to: string;
  dryRun: boolean;
  changed: boolean;
  uploaded: { key: string; reason: 'new' | 'changed'; contentType: string; cacheControl: string; bytes: number }[];
  unchanged: number;
  invalidation: { paths: string[]; id: string | null; skipped?: string };
  message: string;
}

/** Fingerprinted names (`app.3f2a9c1b.js`, `chunk-AB12CD34.css`) never change content: cache them for a year. */
export function cacheControlFor(key: string): string {
  const base = path.posix.basename(key);
  if (/\.html?$/i.test(base) || base === RELEASE_MARKER) return REVALIDATE;
  if (/[.-][A-Za-z0-9_]{8,}\.[a-z0-9]+$/i.test(base) && /[0-9]/.test(base.replace(/\.[a-z0-9]+$/i, ''))) return IMMUTABLE;
  return SHORT;
}

export function contentTypeFor(key: string): string {
  const t = lookup(key) || 'application/octet-stream';
  return /^text\/|javascript|json|xml|svg/.test(t) && !t.includes('charset') ? `${t}; charset=utf-8` : t;
}

/** Every regular file under dir, as bucket keys. Symlinks and special files are refused: a build has none. */
export function localFiles(dir: string, prefix: string): LocalFile[] {
  const out: LocalFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        const rel = path.relative(dir, full).split(path.sep).join('/');
        if (rel === RELEASE_MARKER) continue;
        const data = readFileSync(full);
        const key = prefix + rel;
        out.push({ key, file: full, md5: createHash('md5').update(data).digest('hex'), size: st.size, contentType: contentTypeFor(key), cacheControl: cacheControlFor(key) });
      } else {
        throw new DeployError(`${full}: not a regular file or directory (symlinks are not published)`);
      }
    }
  };
  walk(dir);
  return out;
}

async function remoteEtags(o: FrontendPublish): Promise<Map<string, string>> {
  const etags = new Map<string, string>();
  let token: string | undefined;
  do {
    const res = await o.s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.prefix, ContinuationToken: token }), { abortSignal: o.signal });
    for (const obj of res.Contents ?? []) if (obj.Key && obj.ETag) etags.set(obj.Key, obj.ETag.replace(/"/g, ''));
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return etags;
}

async function readMarker(o: FrontendPublish): Promise<{ version?: string; previous?: string }> {
  try {
    const res = await o.s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.prefix + RELEASE_MARKER }), { abortSignal: o.signal });
    return JSON.parse(await res.Body!.transformToString()) as { version?: string; previous?: string };
  } catch (err) {
    const code = (err as { name?: string }).name;
    if (code === 'NoSuchKey' || code === 'NotFound') return {};
    throw err;
  }
}

/** CloudFront paths for overwritten keys; `dir/index.html` also invalidates `dir/` (the default root object). */
export function invalidationPaths(keys: string[], prefix: string): string[] {
  const paths = new Set<string>();
  for (const k of keys) {
    paths.add(`/${k.split('/').map(encodeURIComponent).join('/')}`);
    if (k.endsWith('/index.html') || k === 'index.html') paths.add(`/${k.slice(0, -'index.html'.length)}`);
  }
  const list = [...paths].sort();
  return list.length > MAX_LISTED_PATHS ? [`/${prefix}*`] : list;
}

export async function previousRelease(o: Pick<FrontendPublish, 's3' | 'bucket' | 'prefix' | 'signal'>): Promise<string | undefined> {
  return (await readMarker(o as FrontendPublish)).previous;
}

export async function publishFrontend(o: FrontendPublish): Promise<PublishResult> {
  const files = localFiles(o.dir, o.prefix);
  if (files.length === 0) throw new DeployError(`${o.dir} has no files: build the frontend first`);
  const [etags, marker] = await Promise.all([remoteEtags(o), readMarker(o)]);
  const uploads = files.filter((f) => etags.get(f.key) !== f.md5)
    .map((f) => ({ file: f, reason: etags.has(f.key) ? 'changed' as const : 'new' as const }));
  const overwritten = uploads.filter((u) => u.reason === 'changed').map((u) => u.file.key);
  const paths = overwritten.length ? invalidationPaths(overwritten, o.prefix) : [];
  const from = marker.version ?? null;
  const base: PublishResult = {
    provider: 'aws', bucket: o.bucket, prefix: o.prefix, version: o.version, from, to: o.version, dryRun: o.dryRun,
    changed: uploads.length > 0 || from !== o.version,
    uploaded: uploads.map((u) => ({ key: u.file.key, reason: u.reason, contentType: u.file.contentType, cacheControl: u.file.cacheControl, bytes: u.file.size })),
    unchanged: files.length - uploads.length,
    invalidation: { paths, id: null, ...(paths.length && !o.distributionId ? { skipped: 'no controlCenter.deploy.frontend.cloudfrontDistributionId configured' } : {}) },
    message: '',
  };
  if (o.dryRun) {
    return { ...base, message: `would upload ${uploads.length} of ${files.length} files and invalidate ${paths.length} path(s)` };
  }
  for (const u of uploads) {
    await o.s3.send(new PutObjectCommand({
      Bucket: o.bucket, Key: u.file.key, Body: readFileSync(u.file.file), ContentType: u.file.contentType,
      CacheControl: u.file.cacheControl, ContentMD5: Buffer.from(u.file.md5, 'hex').toString('base64'),
    }), { abortSignal: o.signal });
  }
  if (from !== o.version) {
    const release = { version: o.version, previous: from ?? undefined, publishedAt: (o.now ?? (() => new Date()))().toISOString() };
    await o.s3.send(new PutObjectCommand({
      Bucket: o.bucket, Key: o.prefix + RELEASE_MARKER, Body: JSON.stringify(release), ContentType: 'application/json', CacheControl: REVALIDATE,
    }), { abortSignal: o.signal });
  }
  let id: string | null = null;
  if (paths.length && o.distributionId) {
    const res = await o.cloudfront.send(new CreateInvalidationCommand({
      DistributionId: o.distributionId,
      InvalidationBatch: { CallerReference: `ziggie-${o.version}-${Date.now()}`, Paths: { Quantity: paths.length, Items: paths } },
    }), { abortSignal: o.signal });
    id = res.Invalidation?.Id ?? null;
  }
  return {
    ...base, invalidation: { ...base.invalidation, id },
    message: `published ${o.version}: uploaded ${uploads.length} of ${files.length} files, invalidated ${id ? paths.length : 0} path(s)`,
  };
}
