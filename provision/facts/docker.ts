/** Docker facts: the containers of a compose project (by its label) and their states. */
import { defineFact, need, type Need } from '../fact';
import { quote } from '../shell';

export type ComposeContainers = { usable: true; states: string[] } | { usable: false; error: string };

export const composeContainersFact = defineFact<string, ComposeContainers>({
  name: 'compose-containers',
  command: (project) => `docker ps -a --filter label=com.docker.compose.project=${quote(project)} --format '{{.State}}' 2>&1`,
  parse([s]) {
    if (s!.code !== 0) return { usable: false, error: s!.text.trim().split('\n')[0] ?? `exit ${s!.code}` };
    return { usable: true, states: s!.text.split('\n').filter(Boolean) };
  },
});

export const composeContainers = (project: string): Need<ComposeContainers> => need(composeContainersFact, project);
