import path from 'node:path';

export { configPath } from '../../config/load';

/** The repository root: entry scripts run from .build/, data and docs stay in the source tree. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A file of the repository by its path from the root (`docs/cost.md`). */
export function repoFile(rel: string): string {
  return path.join(REPO_ROOT, rel);
}
