/** Docker facts: the engine and its Compose v2 plugin, the containers of compose projects and their states. */
import { defineBatchFact, defineFact, need, type Need, type Section } from '../fact';

/** Where the docker CLI looks for plugins: its config dir, then the system plugin dirs. */
const PLUGIN_DIRS = '"${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins ' +
  '/usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins';

/**
 * Prints the Compose v2 plugin's version by running the plugin itself: `docker compose version` would start the
 * 40 MB docker CLI first, which costs more than the plugin. Falls back to the docker CLI for a plugin found only
 * through its config file (cliPluginsExtraDirs).
 */
export const COMPOSE_VERSION_SH = `for d in ${PLUGIN_DIRS}; do if [ -x "$d/docker-compose" ]; then exec "$d/docker-compose" version --short; fi; done; ` +
  'exec docker compose version --short';

/**
 * Where the Compose v2 plugin is, found in the docker CLI's plugin dirs without starting it (a Go binary of 60 MB);
 * only when it is in none of them, the docker CLI is asked (a plugin dir from its config file). undefined: none.
 */
export const composePluginFact = defineFact<'compose', string | undefined>({
  name: 'compose-plugin',
  command: () => `for d in ${PLUGIN_DIRS}; do if [ -x "$d/docker-compose" ]; then printf '%s\\n' "$d/docker-compose"; exit 0; fi; done; ` +
    "if docker compose version >/dev/null 2>&1; then echo 'docker compose'; fi",
  parse: ([s]) => s!.text.trim() || undefined,
});

export const composePlugin = (): Need<string | undefined> => need(composePluginFact, 'compose');

/** A docker CLI call that failed (no docker, the daemon not answering): the first line it said. */
const unusable = (s: Section): { usable: false; error: string } => ({ usable: false, error: s.text.trim().split('\n')[0] || `exit ${s.code}` });

export type ComposeContainers = { usable: true; states: string[] } | { usable: false; error: string };

/** One `docker ps` for every project on the host (each docker CLI start costs tens of ms on a small VPS). */
export const composeContainersFact = defineBatchFact<string, ComposeContainers>({
  name: 'compose-containers',
  concurrent: true,
  command: () => `docker ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}\t{{.State}}' 2>&1`,
  parse([s], projects) {
    if (s!.code !== 0) return projects.map(() => unusable(s!));
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

export type DockerNetwork = { usable: true; exists: boolean } | { usable: false; error: string };

/** One `docker network ls` for every network a host's tasks ask about, started beside the rest of the probe. */
export const dockerNetworkFact = defineBatchFact<string, DockerNetwork>({
  name: 'docker-network',
  concurrent: true,
  command: () => `docker network ls --format '{{.Name}}' 2>&1`,
  parse([s], names) {
    if (s!.code !== 0) return names.map(() => unusable(s!));
    const have = new Set(s!.text.split('\n'));
    return names.map((n) => ({ usable: true as const, exists: have.has(n) }));
  },
});

export const dockerNetwork = (name: string): Need<DockerNetwork> => need(dockerNetworkFact, name);
