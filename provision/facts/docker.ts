/** Docker facts: the containers of compose projects (by their label) and their states. */
import { defineBatchFact, need, type Need } from '../fact';

export type ComposeContainers = { usable: true; states: string[] } | { usable: false; error: string };

/** One `docker ps` for every project on the host (each docker CLI start costs tens of ms on a small VPS). */
export const composeContainersFact = defineBatchFact<string, ComposeContainers>({
  name: 'compose-containers',
  concurrent: true,
  command: () => `docker ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}\t{{.State}}' 2>&1`,
  parse([s], projects) {
    if (s!.code !== 0) {
      const error = s!.text.trim().split('\n')[0] || `exit ${s!.code}`;
      return projects.map(() => ({ usable: false as const, error }));
    }
    const states = new Map<string, string[]>();
    for (const line of s!.text.split('\n')) {
      const tab = line.lastIndexOf('\t');
      if (tab < 0) continue;
      const project = line.slice(0, tab);
      states.set(project, [...(states.get(project) ?? []), line.slice(tab + 1)]);
    }
    return projects.map((p) => ({ usable: true as const, states: states.get(p) ?? [] }));
  },
});

export const composeContainers = (project: string): Need<ComposeContainers> => need(composeContainersFact, project);
