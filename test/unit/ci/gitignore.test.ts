/** A user's own config and inventory never get committed by a `git add .`; the examples stay tracked. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');
const ignored = (file: string) => spawnSync('git', ['-C', REPO, 'check-ignore', '--no-index', '-q', file]).status === 0;

test.each(['config/ziggie.yaml', 'inventory/hostinger.yaml', 'inventory/prod.yaml', 'cdktf.out/manifest.json', 'terraform.state.tfstate'])('%s is ignored', (file) => {
  expect(ignored(file)).toBe(true);
});

test.each(['config/ziggie.example.yaml', 'inventory/hostinger.example.yaml', 'config/schema.ts', 'terraform/mirror.tfrc'])('%s is not ignored', (file) => {
  expect(ignored(file)).toBe(false);
});
