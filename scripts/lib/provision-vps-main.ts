/**
 * `npm run provision:vps` as one function, with no work on import: scripts/provision-vps.mts calls it, and so does
 * its startup snapshot (bin/snapshot.mjs), which calls `preload` while it is built. --help, --version and usage
 * errors are answered before the playbook loads.
 */
import { cliErrorCode, preloadEngine, type CliOptions } from '../../provision/cli';
import { parseProvisionVps, runProvisionVps } from './provision-vps';

export async function run(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseProvisionVps(argv);
  } catch (e) {
    return cliErrorCode(e);
  }
  // zx only when it is used (a question on a terminal, a spinner): it needs node:http at load
  return runProvisionVps(o, {
    confirm: process.stdin.isTTY ? async (q) => /^y(es)?$/i.test((await (await import('zx')).question(q)).trim()) : undefined,
    during: async <T,>(title: string, work: () => Promise<T>) =>
      (process.stderr.isTTY ? (await import('zx')).spinner(title, work) as Promise<unknown> as Promise<T> : work()),
  });
}

/**
 * What a run loads on first use: the engine, the config loader and the VPS playbook; then one pass over the
 * example config and its playbook's tasks, so their code (the YAML parser, the zod schemas) is compiled already.
 */
export async function preload(): Promise<void> {
  const [, { EXAMPLE_CONFIG, loadConfig }, { vpsPlaybook }, { flattenTasks }] = await Promise.all([
    preloadEngine(), import('../../config/load.js'), import('../../playbooks/hostinger-vps.js'), import('../../provision/playbook.js'),
  ]);
  // the control center's files are read at run time (scripts/lib/control-center-app.ts): none are needed here
  const playbook = vpsPlaybook(loadConfig(EXAMPLE_CONFIG), { controlCenterApp: {} });
  flattenTasks(playbook.tasks({ name: 'snapshot', groups: [], vars: {} } as never));
}
