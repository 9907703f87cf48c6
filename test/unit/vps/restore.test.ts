/**
 * `ziggie-vps restore` against hostile backups (test_restore.py): symlink then a file through it, hard links to
 * /etc/passwd, devices, FIFOs, `..` and absolute names, a part changed after its manifest, a planted later key
 * and a planted manifest. Each must be refused with nothing written inside or outside the volume.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PYTHON = process.env.PYTHON ?? 'python3';

jest.setTimeout(90_000);

test('the restore refuses every hostile archive and restores nothing outside its volume (Python unittest)', async () => {
  const r = await run(PYTHON, ['-W', 'error::ResourceWarning', '-m', 'unittest', 'discover', '-v', '-s', __dirname, '-p', 'test_*.py'], {
    timeout: 60_000, cwd: path.resolve(__dirname, '../../..'),
  }).catch((e: { stderr?: string; message: string }) => {
    throw new Error(e.stderr ?? e.message);
  });
  expect(Number(/Ran (\d+) tests/.exec(r.stderr)?.[1])).toBeGreaterThanOrEqual(16);
  expect(r.stderr).toMatch(/\nOK\n/);
  expect(r.stderr).toMatch(/test_symlink_then_a_file_through_it .* ok/);
});
