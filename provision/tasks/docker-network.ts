/** docker_network: a user-defined Docker network exists (or not), with the driver's defaults. */
import * as z from 'zod/mini';
import { common, parseOptions, str } from '../options';
import { dockerNetwork as networkFact } from '../facts/docker';
import { sh } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export interface DockerNetworkOptions extends TaskOptions {
  /** the network's name (docker's rule: letters, digits, `_.-`, starting with a letter or digit) */
  network: string;
  /** @default 'present' */
  state?: 'present' | 'absent';
}

const schema = z.strictObject({
  ...common,
  network: str.check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { error: 'expected a docker network name' })),
  state: z._default(z.enum(['present', 'absent']), 'present'),
});

export function dockerNetwork(opts: DockerNetworkOptions): Task {
  const o = parseOptions('docker_network', schema, opts);
  return defineTask('docker_network', `docker network ${o.network}`, o, {
    facts: { net: networkFact(o.network) },
    plan({ net }, env): Plan {
      if (!net.usable) {
        if (env.check) return { changed: o.state === 'present', msg: `docker not usable (${net.error}; check mode: assuming an earlier task installs it)` };
        throw new Error(`docker is not usable: ${net.error}`);
      }
      if (net.exists === (o.state === 'present')) return { changed: false };
      return o.state === 'present'
        ? { changed: true, msg: 'create', steps: [run(sh`docker network create ${o.network} >/dev/null`, 'docker network create')] }
        : { changed: true, msg: 'remove', steps: [run(sh`docker network rm ${o.network} >/dev/null`, 'docker network rm')] };
    },
  });
}
