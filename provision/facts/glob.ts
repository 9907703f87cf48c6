/** Paths under a directory that match a shell pattern ("ziggie-*.service", "<project>/compose.yaml" with a star). */
import { defineFact, need, type Need } from '../fact';
import { quote } from '../shell';

export interface GlobArg {
  dir: string;
  pattern: string;
}

export const globFact = defineFact<GlobArg, string[]>({
  name: 'glob',
  inline: true,
  key: (a) => `${a.dir}/${a.pattern}`,
  command({ dir, pattern }) {
    if (!/^[\w.*?/-]+$/.test(pattern) || pattern.split('/').includes('..')) throw new Error(`glob: unsupported pattern ${JSON.stringify(pattern)}`);
    return `for f in ${quote(dir)}/${pattern}; do if [ -e "$f" ]; then printf '%s\\n' "$f"; fi; done`;
  },
  parse: ([s]) => s!.text.split('\n').filter(Boolean),
});

export const glob = (dir: string, pattern: string): Need<string[]> => need(globFact, { dir: dir.replace(/\/+$/, ''), pattern });
