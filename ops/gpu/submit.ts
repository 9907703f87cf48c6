/**
 * Submit a ComfyUI workflow to the GPU's job queue and, optionally, wait for its result.json: what
 * `ziggie gpu submit` does, and what the control plane's gpu:submit capability calls. The worker on the GPU
 * (playbooks/comfyui/comfyui-worker.py) takes the job, writes the outputs under comfyui/generated/<job id>/ and
 * result.json last; a queued job also starts a stopped GPU (the jobs-waiting alarm → gpu-control).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ZiggieConfig } from '../../config/schema';
import { awsErrorCode } from '../../shared/aws-errors';
import { ziggieNames } from '../../shared/names';
import { ASSET_PREFIXES } from '../../shared/storage-prefixes';

/** The worker's job id rule: letters, digits, - and _ (it names an S3 prefix). */
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface SubmitTarget {
  queueUrl: string;
  bucket: string;
}

export interface JobOutput {
  name: string;
  key: string;
  url: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

/** result.json as the worker writes it. */
export interface JobResult {
  jobId: string;
  status: 'succeeded';
  promptId: string;
  outputs: JobOutput[];
  attempts: number;
  resultUrl: string;
}

export interface SubmitOptions {
  /** ComfyUI's API-format workflow (File → Export (API) in ComfyUI). */
  workflow: Record<string, unknown>;
  /** @default a random UUID */
  jobId?: string;
  /** POSTed result.json when the job is done. */
  callbackUrl?: string;
}

export interface SubmitDeps {
  sqs: Pick<SQSClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
}

/** Where the configured deployment's queue and results live. */
export function submitTarget(config: ZiggieConfig): SubmitTarget {
  return { queueUrl: ziggieNames(config).comfyuiJobsQueueUrl, bucket: config.storage.assetsBucket };
}

/** A workflow file's content as a job's workflow, or a one-line reason it is not one. */
export function parseWorkflow(text: string, from: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${from}: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || Object.keys(doc).length === 0) {
    throw new UsageError(`${from}: expected ComfyUI's API-format workflow, a JSON object of nodes`);
  }
  const nodes = doc as Record<string, unknown>;
  if ('nodes' in nodes && Array.isArray(nodes.nodes)) {
    throw new UsageError(`${from}: this is ComfyUI's UI format; export it with "Export (API)"`);
  }
  const bad = Object.entries(nodes).find(([, n]) => typeof n !== 'object' || n === null || typeof (n as { class_type?: unknown }).class_type !== 'string');
  if (bad) throw new UsageError(`${from}: node ${bad[0]} has no class_type`);
  return nodes;
}

export class UsageError extends Error {}

/** Enqueue one job; returns its id (the S3 prefix its outputs go under). */
export async function submitJob(deps: SubmitDeps, target: SubmitTarget, o: SubmitOptions): Promise<{ jobId: string; messageId?: string; resultUrl: string }> {
  const jobId = o.jobId ?? randomUUID();
  if (!JOB_ID.test(jobId)) throw new UsageError(`job id ${JSON.stringify(jobId)}: use 1-64 letters, digits, - or _`);
  if (o.callbackUrl !== undefined && !/^https?:\/\//.test(o.callbackUrl)) throw new UsageError('callback URL: must be http(s)');
  const body = JSON.stringify({ jobId, workflow: o.workflow, ...(o.callbackUrl ? { callbackUrl: o.callbackUrl } : {}) });
  if (Buffer.byteLength(body) > 256 * 1024) throw new UsageError(`the job is ${Buffer.byteLength(body)} bytes; SQS takes at most 256 KiB`);
  const out = await deps.sqs.send(new SendMessageCommand({ QueueUrl: target.queueUrl, MessageBody: body }));
  return { jobId, messageId: out.MessageId, resultUrl: `s3://${target.bucket}/${resultKey(jobId)}` };
}

export function resultKey(jobId: string): string {
  return `${ASSET_PREFIXES.comfyuiGenerated}${jobId}/result.json`;
}

/** result.json, or undefined while the job is not done. */
export async function fetchResult(deps: Pick<SubmitDeps, 's3'>, target: SubmitTarget, jobId: string): Promise<JobResult | undefined> {
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: resultKey(jobId) }));
    return JSON.parse(await out.Body!.transformToString()) as JobResult;
  } catch (err) {
    if (awsErrorCode(err) === 'NoSuchKey' || awsErrorCode(err) === 'NotFound') return undefined;
    throw err;
  }
}

/** Poll for result.json until it appears or the timeout passes (then undefined: the job may still finish). */
export async function waitForResult(deps: Pick<SubmitDeps, 's3'>, target: SubmitTarget, jobId: string, opts: {
  timeoutMs: number; intervalMs?: number; sleep?: (ms: number) => Promise<void>; onWait?: (elapsedMs: number) => void;
}): Promise<JobResult | undefined> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (;;) {
    const result = await fetchResult(deps, target, jobId);
    if (result) return result;
    if (Date.now() - started >= opts.timeoutMs) return undefined;
    opts.onWait?.(Date.now() - started);
    await sleep(opts.intervalMs ?? 10_000);
  }
}
