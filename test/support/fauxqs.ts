/**
 * fauxqs (a maintained npm SQS/S3 emulator speaking SQS's JSON protocol) as a child process: see fauxqs-server.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface FauxqsSpec {
  port?: number;
  host?: string;
  region?: string;
  queues?: Array<{ name: string; attributes?: Record<string, string> }>;
  buckets?: string[];
}

export interface Fauxqs {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** The account fauxqs puts in every ARN. */
export const FAUXQS_ACCOUNT = '000000000000';

/** A queue with a dead-letter queue after `maxReceiveCount` receives, in fauxqs's init shape. */
export function queueWithDlq(name: string, region: string, maxReceiveCount: number, visibilitySeconds = 30): FauxqsSpec['queues'] {
  return [
    { name: `${name}-dlq` },
    {
      name,
      attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${region}:${FAUXQS_ACCOUNT}:${name}-dlq`, maxReceiveCount }),
      },
    },
  ];
}

export async function startFauxqs(spec: FauxqsSpec): Promise<Fauxqs> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'fauxqs-server.mjs'), JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fauxqs did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`fauxqs exited ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
