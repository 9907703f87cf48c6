/** Unified before/after diffs, with secret values redacted (the `diff` package is loaded only in diff mode). */
import { redact } from './secret';
import type { DiffItem } from './task';

export function unifiedDiff(item: DiffItem, context = 3): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { createTwoFilesPatch } = require('diff') as typeof import('diff');
  const before = redact(item.before);
  const after = redact(item.after);
  if (before === after) return item.before === item.after ? '' : `--- ${item.label} (before)\n+++ ${item.label} (after)\n(only secret values differ; not shown)\n`;
  const patch = createTwoFilesPatch(`${item.label} (before)`, `${item.label} (after)`, before, after, undefined, undefined, { context });
  // drop the "Index:"/"====" header lines createTwoFilesPatch adds
  return patch
    .split('\n')
    .filter((l) => !l.startsWith('Index: ') && !/^=+$/.test(l))
    .join('\n')
    .replace(/\n+$/, '\n');
}
