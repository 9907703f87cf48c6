/**
 * `npm run review -- --base <ref>` end to end on throwaway git repositories: the project's files copied into a
 * temp dir, committed, changed, committed again, then reviewed base (HEAD~1, synthesized in a worktree with its
 * own code) → head. Each review runs two real synths (~2 s each, in parallel), so the cases are few.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitCodeFor, runReview, type Review } from '../../../review';
import { renderJson, renderMarkdown, MARKER } from '../../../review/render';

jest.setTimeout(120_000);

const REPO = path.resolve(__dirname, '../../..');
const SKIP = new Set(['node_modules', '.git', 'cdktf.out', '.cache', '.scratch', 'coverage', 'reports']);

let tmp: string;
const git = (...args: string[]) => execFileSync('git', ['-C', tmp, ...args], { encoding: 'utf8' }).trim();

function edit(file: string, from: string | RegExp, to: string): void {
  const full = path.join(tmp, file);
  const text = readFileSync(full, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: ${String(from)} not found`);
  writeFileSync(full, next);
}

async function reviewChange(message: string, change: () => void): Promise<Review> {
  change();
  git('commit', '-qam', message);
  try {
    return await runReview({ repo: tmp, base: 'HEAD~1' });
  } finally {
    git('reset', '-q', '--hard', 'HEAD~1');
  }
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ziggie-review-repo-'));
  cpSync(REPO, tmp, { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) || path.dirname(src) !== REPO });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(tmp, 'node_modules'), 'dir');
  writeFileSync(path.join(tmp, '.gitignore'), 'node_modules\ncdktf.out\n.cache\n');
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'root');
  git('config', 'user.name', 'Review Test');
  git('config', 'user.email', 'review@example.com');
  git('add', '-A');
  git('commit', '-qm', 'base');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('own config inside the repository, untracked (README flow): base and head both synthesize from it', async () => {
  const own = path.join(tmp, 'config/ziggie.yaml');
  writeFileSync(own, readFileSync(path.join(tmp, 'config/ziggie.example.yaml'), 'utf8').replace(/monthlyLimitUsd: \d+/, 'monthlyLimitUsd: 321'));
  try {
    edit('README.md', '# ziggie-infra', '# ziggie-infra (docs change)');
    git('commit', '-qam', 'docs only');
    let review: Review;
    try {
      review = await runReview({ repo: tmp, base: 'HEAD~1', env: { ...process.env, ZIGGIE_CONFIG: 'config/ziggie.yaml' } });
    } finally {
      git('reset', '-q', '--hard', 'HEAD~1');
    }
    // Base read the same file (not its example config): the budget limit would otherwise show as a change.
    expect(review.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.stack)).toEqual([]);
    expect(review.warnings.join('\n')).not.toMatch(/ENOENT|cannot read/);
  } finally {
    rmSync(own, { force: true });
  }
});

test('a bucket made public (code change): public-access risk, new guardrail failure, exit 1, worktree cleaned up', async () => {
  const review = await reviewChange('make buckets public', () => edit('modules/private-bucket.ts', /blockPublicAcls: true/, 'blockPublicAcls: false'));
  // Base was synthesized with base's own code: only head has the flag off.
  const pabs = review.stacks.flatMap((s) => s.changes).filter((c) => c.type === 'aws_s3_bucket_public_access_block');
  expect(pabs.length).toBeGreaterThan(0);
  expect(pabs.every((c) => c.action === 'update' && c.attributes.some((a) => a.path === 'block_public_acls' && a.before === 'true' && a.after === 'false'))).toBe(true);
  expect(review.risks.filter((r) => r.kind === 'public-access' && r.severity === 'high').length).toBe(pabs.length);
  // S3-PUBLIC-ACCESS-BLOCK judges each bucket by its companion block: one new failure per bucket.
  expect(review.guardrails.available).toBe(true);
  expect(review.guardrails.new.filter((f) => f.rule === 'S3-PUBLIC-ACCESS-BLOCK').length).toBe(pabs.length);
  expect(review.guardrails.fixed).toEqual([]);
  expect(exitCodeFor(review, 'new-guardrail')).toBe(1);
  expect(exitCodeFor(review, 'any-risk')).toBe(1);
  expect(exitCodeFor(review, 'never')).toBe(0);
  expect(review.cost!.diff!.deltaUsd).toBe(0);
  const md = renderMarkdown(review);
  expect(md.startsWith(MARKER)).toBe(true);
  for (const section of ['### ⚠️ Risky changes', '### Guardrails', '### 💰 Monthly cost', '### Changes by stack', '<details', '| `block_public_acls` | `true` | `false` |']) {
    expect(md).toContain(section);
  }
  expect(git('worktree', 'list').split('\n')).toHaveLength(1);
});

test('the GPU type changed in config: the instance type attribute and the compute cost move', async () => {
  const review = await reviewChange('bigger GPU', () => edit('config/ziggie.example.yaml', /instanceType: g4dn\.xlarge/, 'instanceType: g4dn.2xlarge'));
  const gpu = review.stacks.find((s) => s.stack === 'gpu')!;
  expect(gpu.status).toBe('changed');
  const typeChange = gpu.changes.flatMap((c) => c.attributes).find((a) => /instance_type$/.test(a.path));
  expect(typeChange).toMatchObject({ before: 'g4dn.xlarge', after: 'g4dn.2xlarge' });
  expect(review.risks.some((r) => r.stack === 'gpu' && r.kind === 'replacement')).toBe(true);
  const line = review.cost!.diff!.lines.find((l) => l.id === 'gpu-compute')!;
  const hours = (4 * 730) / 24; // the default scenario, moderate: 4 h/day Spot
  expect(line.headUsd - line.baseUsd).toBeCloseTo(hours * (0.798 - 0.558) * 0.36, 1);
  expect(line.label).toBe('EC2 g4dn.xlarge (spot) → EC2 g4dn.2xlarge (spot)');
  const always = review.cost!.scenarios.find((s) => s.name === 'always-on')!;
  expect(always.headUsd - always.baseUsd!).toBeCloseTo(730 * (0.798 - 0.558), 0);
  expect(renderMarkdown(review)).toMatch(/\| EC2 g4dn\.xlarge \(spot\) → EC2 g4dn\.2xlarge \(spot\) \| \$\d+\.\d\d \| \$\d+\.\d\d \| \+\$\d+\.\d\d \|/);
});

test('a secret added to config: one new secret container, +$0.40/month, nothing sensitive in the JSON', async () => {
  const review = await reviewChange('new secret', () => edit('config/ziggie.example.yaml', /(\n {4}- ziggie\/prod\/n8n-encryption-key\n)/, '$1    - ziggie/prod/stability-api-key\n'));
  const created = review.stacks.flatMap((s) => s.changes).filter((c) => c.action === 'create');
  expect(created.filter((c) => c.type === 'aws_secretsmanager_secret').map((c) => c.after!.name)).toEqual(['ziggie/prod/stability-api-key']);
  expect(review.cost!.diff!.lines.map((l) => [l.id, +(l.headUsd - l.baseUsd).toFixed(2)])).toEqual([['secrets', 0.4]]);
  expect(review.cost!.diff!.deltaUsd).toBe(0.4);
  const json = JSON.parse(renderJson(review)) as { stacks: Array<{ changes: object[] }>; summary: { monthlyUsd: { delta: number } } };
  expect(json.summary.monthlyUsd.delta).toBe(0.4);
  expect(JSON.stringify(json.stacks)).not.toMatch(/"before":\{|"after":\{/); // raw bodies are left out
});
