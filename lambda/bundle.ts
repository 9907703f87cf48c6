import { buildSync } from 'esbuild';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..');

/**
 * Bundle `lambda/<name>/handler.ts` (and what it imports, the AWS SDK included so the deployed code is the code
 * that was tested) into one minified CommonJS file, at synth time. Returns the directory cdktf zips as the asset;
 * esbuild's output is deterministic, so the asset hash changes only when the code does.
 */
export function bundleLambda(name: string): string {
  const outdir = path.join(REPO, '.cache/lambda', name);
  mkdirSync(outdir, { recursive: true });
  buildSync({
    entryPoints: [path.join(REPO, 'lambda', name, 'handler.ts')],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  return outdir;
}
