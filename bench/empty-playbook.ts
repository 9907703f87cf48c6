/** A playbook with no tasks: connect and disconnect (measures the connection cost alone). Command line: bench/empty.mts. */
import { definePlaybook } from '../provision';
import { runPlaybookCli } from '../provision/cli';

export { preloadEngine as preload } from '../provision/cli';

export const emptyPlaybook = definePlaybook({ name: 'empty', tasks: () => [] });

export const run = (argv: string[]): Promise<number> => runPlaybookCli(emptyPlaybook, argv);
