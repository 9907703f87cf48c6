/**
 * The benchmark playbook: the same 10 tasks as bench/ansible/playbook.yml (2 directories, 5 files with
 * content, a line in a file, a user, an apt package). Its command line is bench/playbook.mts.
 */
import { apt, copy, directory, definePlaybook, lineInFile, user } from '../provision';
import { runPlaybookCli } from '../provision/cli';

export { preloadEngine as preload } from '../provision/cli';

export const FILES = [1, 2, 3, 4, 5].map((i) => ({
  dest: `/srv/bench/conf/file${i}.conf`,
  content: `# bench file ${i}\nname = file${i}\nvalue = ${i * 1000}\n`,
}));

export const benchPlaybook = definePlaybook({
  name: 'bench',
  tasks: () => [
    directory({ path: '/srv/bench', mode: '0755' }),
    directory({ path: '/srv/bench/conf', mode: '0750' }),
    ...FILES.map((f) => copy({ dest: f.dest, content: f.content, mode: '0644' })),
    lineInFile({ path: '/srv/bench/settings.ini', line: 'bench_enabled = true', regexp: '^bench_enabled', create: true, mode: '0644' }),
    user({ user: 'benchuser', shell: '/bin/bash', comment: 'bench user' }),
    apt({ packages: ['hello'], updateCache: false }),
  ],
});

/** The command line: the playbook engine's options (provision/cli.ts); returns the exit code. */
export const run = (argv: string[]): Promise<number> => runPlaybookCli(benchPlaybook, argv);
