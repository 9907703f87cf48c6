/**
 * Build the cloud page's assets into web/dist/ (bundled, no CDN at run time): the TypeScript app with esbuild,
 * the HTML and CSS copied. Run at install (`prepare`) and before the browser test; `npm run build:web` by hand.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const WEB_DIST = path.join(__dirname, 'dist');
const APP = path.join(__dirname, 'app');

export async function buildWeb(outdir: string = WEB_DIST): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(APP, 'main.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2020',
    outfile: path.join(outdir, 'app.js'), minify: true, sourcemap: false, logLevel: 'error', legalComments: 'none',
  });
  copyFileSync(path.join(APP, 'index.html'), path.join(outdir, 'index.html'));
  copyFileSync(path.join(APP, 'app.css'), path.join(outdir, 'app.css'));
  return ['index.html', 'app.js', 'app.css'];
}
