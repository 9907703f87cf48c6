import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoFile } from './paths';

/**
 * A file generated from the code (docs/cost.md, docs/iam.md): written, or with `check` only compared. Prints one
 * line either way; returns false when `check` finds it stale (the caller exits 1).
 */
export function writeOrCheck(rel: string, content: string, opts: { check?: boolean; command: string }): boolean {
  const file = repoFile(rel);
  if (!opts.check) {
    writeFileSync(file, content);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
    return true;
  }
  if ((existsSync(file) ? readFileSync(file, 'utf8') : '') !== content) {
    console.error(`${rel} is stale: run \`${opts.command}\` and commit it`);
    return false;
  }
  console.log(`${rel} is up to date`);
  return true;
}
