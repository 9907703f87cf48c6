/**
 * The benchmark playbook: the same 10 tasks as bench/ansible/playbook.yml (2 directories, 5 files with
 * content, a line in a file, a user, an apt package). Run directly:
 *   node bin/run.mjs bench/playbook.mts -i inventory.yml [--check] [--diff] ...
 */
import { apt, copy, directory, definePlaybook, lineInFile, main, user } from '../provision/index.js';

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

await main(benchPlaybook);
