/**
 * The VPS playbook's own tasks: what the provisioning library has no module for (ufw rules, the secrets
 * fetch, the .env migration, unit pruning, preconditions). Same contract as provision/tasks: facts as data, a
 * pure plan(), acts only as steps or in apply().
 */
import ipaddr from 'ipaddr.js';
import type { ContainerConfig, ZiggieConfig } from '../../config/schema';
import { posix } from 'node:path';
import { defineFact, need, type Needs } from '../../provision/fact';
import { composeContainers, composePlugin } from '../../provision/facts/docker';
import { fileContent, fileStat, type FileState } from '../../provision/facts/file';
import { glob } from '../../provision/facts/glob';
import { quote, sh } from '../../provision/shell';
import { defineTask, run, type Plan, type Task, type TaskContext, type TaskOptions } from '../../provision/task';
import { registerSecret } from '../../provision/secret';
import { compose } from '../../provision/tasks/compose';
import { writeFileAtomic } from '../../provision/files';
import { DEPLOY_STATE_DIR, deployStatePath, parseDeployState, provisionedImage, renderDeployState } from './deploy-state';
import { PATHS, SECRETS_UNIT, composeFile, projectDir, projectName, secretsDir, serviceUnit, ufwCommand, ufwTuples, vpsServices, type UfwRule } from './render';

/**
 * One service's compose project, with the image an agent deployed kept (deploy-state.ts has the rule): the
 * compose task of the config's image or of the deployed one, chosen from the host's deploy record, which is
 * updated when the config names a new image.
 */
export function serviceCompose(c: ContainerConfig, now?: () => string): Task {
  const build = (image: string): Task =>
    compose({ name: `compose ${c.name}`, project: projectName(c.name), dir: projectDir(c.name), compose: composeFile({ ...c, image }), pull: 'missing' });
  const base = build(c.image);
  const statePath = deployStatePath(c.name);
  return {
    ...base,
    facts: { ...base.facts, deployState: fileContent(statePath) },
    plan(f, env): Plan {
      const text = f.deployState as Buffer | null;
      const d = provisionedImage(c.image, text ? parseDeployState(text.toString('utf8')) : undefined, now);
      const p = (d.image === c.image ? base : build(d.image)).plan(f, env);
      if (!d.record) return d.why && !p.changed ? { ...p, msg: d.why } : p;
      const after = renderDeployState(d.record);
      const before = text?.toString('utf8') ?? '';
      return {
        ...p,
        changed: true,
        msg: [d.why, p.msg].filter(Boolean).join('; '),
        diff: async (ctx) => [...(typeof p.diff === 'function' ? await p.diff(ctx) : p.diff ?? []), { label: statePath, before, after }],
        // the record after the rollout: a failed `up` leaves the old record, and the next run tries again
        apply: async (ctx) => {
          const note = p.apply ? await p.apply(ctx) : undefined;
          await ctx.run(sh`mkdir -p -m 0755 ${DEPLOY_STATE_DIR}`, 'deploy state dir');
          await writeFileAtomic(ctx, statePath, after, { mode: '0644' });
          return note;
        },
      };
    },
  };
}

/** Fails early, with what to do, when the host has no Docker Engine + Compose v2. */
export function requireDocker(o: TaskOptions = {}): Task {
  return defineTask('assert', 'docker engine + compose v2 present', o, {
    // the engine answers when `docker ps` does: the listing the compose tasks read anyway
    facts: { engine: composeContainers(''), compose: composePlugin() },
    plan({ engine, compose }, env): Plan {
      if (engine.usable && compose) return { changed: false, msg: `engine answering, compose plugin ${compose}` };
      if (env.check) return { changed: false, msg: 'docker/compose missing (check mode: an earlier task may install them)' };
      const what = engine.usable ? 'the Compose v2 plugin is missing' : `the Docker Engine does not answer (${engine.error})`;
      throw new Error(`Docker Engine with the Compose v2 plugin is required, and ${what}: \`apt-get install docker.io docker-compose-v2\` (Ubuntu) or Docker's own packages`);
    },
  });
}

/** The credentials file must exist when the inventory does not provide the keys. */
export function requireCredentials(o: TaskOptions = {}, path: string = PATHS.credentials, vars = 'vps_aws_access_key_id and vps_aws_secret_access_key'): Task {
  return defineTask('assert', `${path} present (root, 0600)`, o, {
    facts: { st: fileStat(path) },
    plan({ st }, env): Plan {
      if (st.type === 'file' && st.owner === 'root' && st.mode === '0600') return { changed: false };
      const why = st.type === 'absent' ? 'is missing' : `is ${st.type} ${st.mode} ${st.owner}`;
      const fix = `set ${vars} (!secret_env) in the inventory, or create it as root with mode 0600`;
      if (env.check) return { changed: false, msg: `${path} ${why}: ${fix}` };
      throw new Error(`${path} ${why}: ${fix}`);
    },
  });
}

/**
 * The tmpfs env files match the current mapping: otherwise (re)run ziggie-secrets.service, then verify that it
 * fetched everything. `force()` re-fetches anyway (after a .env migration put new values in).
 */
export function secretsFetched(config: ZiggieConfig, digest: string, force: () => boolean, o: TaskOptions = {}): Task {
  const services = vpsServices(config).filter((c) => Object.keys(c.secrets).length).map((c) => c.name);
  const mark = `${PATHS.secretsDir}/.mapping`;
  const facts: Needs = { mark: fileContent(mark), ...Object.fromEntries(services.map((s) => [`dir:${s}`, fileStat(secretsDir(s))])) };
  return defineTask('secrets', o.name ?? 'container secrets fetched into tmpfs', o, {
    facts,
    plan(f): Plan {
      const have = (f.mark as Buffer | null)?.toString().trim();
      const missing = services.filter((s) => (f[`dir:${s}`] as FileState).type !== 'directory');
      const forced = force();
      if (have === digest && !missing.length && !forced) return { changed: false };
      const why = forced ? 'values migrated' : have === undefined ? 'not fetched since boot' : missing.length ? `missing for ${missing.join(', ')}` : 'mapping changed';
      return {
        changed: true,
        msg: `fetch (${why})`,
        apply: async (ctx) => {
          const sums = async (): Promise<Map<string, string>> => {
            // per service: one digest over its files' names and contents (values never leave the host)
            const out = (await ctx.exec(sh`cd ${PATHS.secretsDir} 2>/dev/null && for d in */; do printf '%s ' "\${d%/}"; (cd "$d" && sha256sum -- * 2>/dev/null) | sha256sum; done; true`)).stdout.toString();
            return new Map(out.split('\n').filter(Boolean).map((l) => [l.split(' ')[0]!, l.split(' ')[1]!]));
          };
          const before = await sums();
          const r = await ctx.exec(`systemctl restart ${SECRETS_UNIT}`, { timeoutMs: 420_000 });
          const now = (await ctx.exec(sh`cat -- ${mark} 2>/dev/null`)).stdout.toString().trim();
          if (r.code !== 0 || now !== digest) {
            // the journal holds the fetcher's own lines: secret names and error codes, never values
            const log = (await ctx.exec(`journalctl -u ${SECRETS_UNIT} -n 8 --no-pager -o cat 2>/dev/null`)).stdout.toString().trim();
            throw new Error(`${SECRETS_UNIT} did not fetch every secret:\n${log}`);
          }
          // running services whose values changed: a restart re-binds the new files (a running container keeps
          // the replaced file it was started with; compose sees no config change, so `up -d` alone would not)
          const after = await sums();
          const changed = services.filter((s) => before.has(s) && before.get(s) !== after.get(s));
          if (changed.length) {
            await ctx.run(changed.map((s) => sh`if systemctl is-active --quiet ${serviceUnit(s)}; then systemctl restart ${serviceUnit(s)}; fi`).join('\n'), 'restart services with new secrets');
            return `new values for ${changed.join(', ')}`;
          }
        },
      };
    },
  });
}

/**
 * Services no longer in the config: stop and disable their ziggie-<svc>.service, bring their compose project down
 * (named volumes are kept) and remove its directory and unit. Keyed by our own units, so a directory under
 * /opt/ziggie that this playbook never created is left alone.
 */
export function pruneServices(keep: string[], o: TaskOptions = {}): Task {
  const keepUnits = new Set([...keep.map(serviceUnit), SECRETS_UNIT, 'ziggie-backup.service']);
  return defineTask('systemd', 'remove services no longer configured', o, {
    facts: { units: glob(PATHS.units, 'ziggie-*.service') },
    plan({ units }): Plan {
      const gone = units.map((u) => posix.basename(u)).filter((u) => /^ziggie-[a-z0-9-]+\.service$/.test(u) && !keepUnits.has(u));
      if (!gone.length) return { changed: false };
      const svcs = gone.map((u) => u.replace(/^ziggie-/, '').replace(/\.service$/, ''));
      return {
        changed: true,
        msg: `remove ${svcs.join(', ')} (volumes kept)`,
        diff: [{ label: 'services', before: svcs.map((g) => g + '\n').join(''), after: '' }],
        steps: [
          ...svcs.map((svc) =>
            run(
              [
                sh`{ systemctl disable --now ${serviceUnit(svc)} || true; }`,
                // by label, not `compose down`: that would need the compose file to parse, env file included
                sh`ids=$(docker ps -aq --filter label=com.docker.compose.project=${projectName(svc)})`,
                'if [ -n "$ids" ]; then docker rm -f $ids >/dev/null; fi',
                sh`rm -rf -- ${projectDir(svc)} ${PATHS.units + '/' + serviceUnit(svc)}`,
              ].join(' && '),
              `remove ${svc}`,
            ),
          ),
          run(`systemctl daemon-reload; systemctl reset-failed ${gone.map(quote).join(' ')} 2>/dev/null; true`, 'daemon-reload'),
        ],
      };
    },
  });
}

export interface UfwState {
  installed: boolean;
  /** the rules as ufw keeps them (the "### tuple ###" lines of /etc/ufw/user.rules and user6.rules, without that prefix) */
  tuples: string[];
  /** ufw manages IPv6 too (IPV6=yes in /etc/default/ufw) */
  ipv6: boolean;
  active: boolean;
  /** incoming DROP, outgoing ACCEPT */
  policies: boolean;
}

/**
 * ufw is active when its user chains are loaded: the test `ufw status` itself makes (ufw's backend_iptables.py
 * get_status), without starting Python a second time.
 */
const UFW_CHAINS_LOADED = 'for d in input output forward; do iptables -n -L ufw-user-$d >/dev/null 2>&1 || exit 1; ' +
  "if grep -qx 'IPV6=yes' /etc/default/ufw; then ip6tables -n -L ufw6-user-$d >/dev/null 2>&1 || exit 1; fi; done";

/** What ufw has, read from its own files (`ufw show added` would start Python to print the same rules). */
export const ufwFact = defineFact<'ufw', UfwState>({
  name: 'ufw',
  concurrent: true,
  command: () => [
    'command -v ufw >/dev/null 2>&1',
    "cat /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null | grep '^### tuple ### '",
    UFW_CHAINS_LOADED,
    "grep -E '^(DEFAULT_(INPUT|OUTPUT)_POLICY|IPV6)=' /etc/default/ufw",
  ],
  parse: ([has, tuples, loaded, settings]) => ({
    installed: has!.code === 0,
    tuples: tuples!.text.split('\n').filter((l) => l.startsWith('### tuple ### ')).map((l) => l.slice('### tuple ### '.length).trim()),
    ipv6: /^IPV6=yes$/m.test(settings!.text),
    active: has!.code === 0 && loaded!.code === 0,
    policies: settings!.text.includes('DEFAULT_INPUT_POLICY="DROP"') && settings!.text.includes('DEFAULT_OUTPUT_POLICY="ACCEPT"'),
  }),
});

/** The added rules as `ufw show added` prints them ("ufw allow ..."). */
async function shownRules(ctx: TaskContext): Promise<string[]> {
  return (await ctx.run('ufw show added', 'ufw show added')).split('\n').filter((l) => l.startsWith('ufw '));
}

/**
 * Decided on ufw's own files: unchanged when its rules are exactly these, it is enabled, and the default policies
 * are set. A change (rare) reads `ufw show added` to name the rules to delete in ufw's own words.
 */
export function planUfw(rules: UfwRule[], allowlist: string[], u: UfwState, check: boolean): Plan {
  if (!u.installed) {
    if (check) return { changed: true, msg: 'ufw not installed (check mode: the packages task installs it)' };
    throw new Error('ufw is not installed (the packages task should have installed it)');
  }
  const wanted = rules.flatMap((r) => ufwTuples(r, u.ipv6));
  const add = rules.filter((r) => ufwTuples(r, u.ipv6).some((t) => !u.tuples.includes(t)));
  const extra = u.tuples.filter((t) => !wanted.includes(t));
  if (!add.length && !extra.length && u.active && u.policies) return { changed: false };
  const commands = rules.map(ufwCommand);
  const msgs = [add.length ? `add ${add.length} rule(s)` : '', extra.length ? 'remove rules not configured' : '', u.policies ? '' : 'default policies', u.active ? '' : 'enable'].filter(Boolean);
  return {
    changed: true,
    msg: msgs.join(', '),
    diff: async (ctx) => [{
      label: 'ufw rules',
      before: (await shownRules(ctx)).map((r) => r + '\n').join('') + `(${u.active ? 'active' : 'inactive'})\n`,
      after: commands.map((r) => r + '\n').join('') + '(active)\n',
    }],
    apply: async (ctx) => {
      if (!u.active) await assertNotLockedOut(ctx, allowlist);
      const shown = await shownRules(ctx);
      const steps = ['ufw default deny incoming', 'ufw default allow outgoing',
        ...shown.filter((r) => !commands.includes(r)).map((r) => `ufw delete ${r.slice(4)}`),
        ...commands.filter((c) => !shown.includes(c)), 'ufw --force enable'];
      await ctx.run(steps.join(' >/dev/null && ') + ' >/dev/null', 'ufw');
    },
  };
}

/** The ufw rules, the default policies, and ufw enabled. */
export function ufw(rules: UfwRule[], allowlist: string[], o: TaskOptions = {}): Task {
  return defineTask('ufw', 'ufw: ssh from the allowlist, http(s) public', o, {
    facts: { state: need(ufwFact, 'ufw') },
    plan: ({ state }, env) => planUfw(rules, allowlist, state, env.check),
  });
}

/** Refuse to enable ufw when this very SSH connection comes from outside the allowlist (and not loopback). */
async function assertNotLockedOut(ctx: TaskContext, allowlist: string[]): Promise<void> {
  // without sudo: sudo resets the environment, and SSH_CONNECTION with it
  const conn = (await ctx.exec('echo "$SSH_CONNECTION"', { become: false })).stdout.toString().trim();
  const ip = conn.split(/\s+/)[0] ?? '';
  if (!ip || !ipaddr.isValid(ip)) return; // not over SSH (console): nothing to lock out
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.range() === 'loopback') return; // ufw accepts everything on lo
  const inside = addr.kind() === 'ipv4' && allowlist.some((c) => (addr as ipaddr.IPv4).match(ipaddr.IPv4.parseCIDR(c)));
  if (!inside) {
    throw new Error(`refusing to enable ufw: this SSH connection comes from ${ip}, which is not in vps.sshAllowlist ` +
      `(${allowlist.join(', ')}); add it there first or you would lock yourself out`);
  }
}

export interface EnvMigration {
  /** secret name -> value (Secrets Manager PutSecretValue) */
  put: Map<string, string>;
  files: string[];
  /** keys that are plain env in the config (left to the config) */
  plain: string[];
  /** keys the config knows nothing about */
  unknown: string[];
}

/** KEY=VALUE lines as docker compose / dotenv read them (export prefix, quotes, comments). */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    const q = v[0];
    if (q === '"' || q === "'") {
      // a quoted value may span lines
      let body = v.slice(1);
      while (!endsWithQuote(body, q) && i + 1 < lines.length) body += '\n' + lines[++i];
      body = body.replace(new RegExp(`${q}\\s*(#.*)?$`), '');
      v = q === '"' ? body.replace(/\\(["\\$nrt])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c] ?? c) : body;
    } else {
      v = v.replace(/\s+#.*$/, '').trim();
    }
    out.set(m[1]!, v);
  }
  return out;
}

function endsWithQuote(s: string, q: string): boolean {
  const m = new RegExp(`(\\\\*)${q}\\s*(#.*)?$`).exec(s);
  return !!m && m[1]!.length % 2 === 0;
}

/** Which secret each legacy .env value belongs to. /opt/ziggie/<svc>/.env → that service; /opt/ziggie/.env → all. */
export function planMigration(config: ZiggieConfig, files: Map<string, string>): EnvMigration & { conflicts: string[] } {
  const put = new Map<string, string>();
  const plain = new Set<string>();
  const unknown = new Set<string>();
  const conflicts: string[] = [];
  for (const [file, text] of files) {
    const m = new RegExp(`^${PATHS.root}/([a-z0-9-]+)/\\.env$`).exec(file);
    const scope = m ? config.containers.filter((c) => c.name === m[1]) : config.containers;
    for (const [key, value] of parseDotenv(text)) {
      const names = [...new Set(scope.map((c) => c.secrets[key]).filter((n): n is string => !!n))];
      // a value that is (or may be) a secret is never printed; plain config env values are not secrets
      if (names.length || !scope.some((c) => key in c.env)) registerSecret(value);
      if (names.length) {
        for (const n of names) {
          if (put.has(n) && put.get(n) !== value) conflicts.push(`${n} (from ${key})`);
          put.set(n, value);
        }
      } else if (scope.some((c) => key in c.env)) plain.add(key);
      else unknown.add(`${key} (${file})`);
    }
  }
  return { put, files: [...files.keys()], plain: [...plain], unknown: [...unknown], conflicts };
}

export type PutSecret = (name: string, value: string) => Promise<void>;

/**
 * Legacy .env files (/opt/ziggie/<svc>/.env, /opt/ziggie/.env): without `enabled` they are only reported;
 * with it their values go to Secrets Manager (from this machine, with the operator's credentials: the VPS's
 * own key can only read) and the files are shredded. Nothing is written unless every key is accounted for.
 */
/** The legacy .env files under root (root/<svc>/.env, root/.env), with their content when asked for. */
export const envFilesFact = defineFact<{ root: string; content: boolean }, Map<string, string | null>>({
  name: 'env-files',
  key: (a) => `${a.root}:${a.content}`,
  command: ({ root, content }) =>
    `for f in ${quote(root)}/*/.env ${quote(root)}/.env; do if [ -f "$f" ]; then printf '%s\\0' "$f"; ${content ? 'cat -- "$f"' : ':'}; printf '\\0'; fi; done`,
  parse([s], { content }) {
    const parts = s!.text.split('\0');
    const files = new Map<string, string | null>();
    for (let i = 0; i + 1 < parts.length; i += 2) files.set(parts[i]!, content ? parts[i + 1]! : null);
    return files;
  },
});

/**
 * Legacy .env files (/opt/ziggie/<svc>/.env, /opt/ziggie/.env): without `enabled` they are only reported;
 * with it their values go to Secrets Manager (from this machine, with the operator's credentials: the VPS's
 * own key can only read) and the files are shredded. Nothing is written unless every key is accounted for.
 */
export function migrateEnvFiles(config: ZiggieConfig, opts: { enabled: boolean; put: () => PutSecret; onMigrated: () => void }, o: TaskOptions = {}): Task {
  return defineTask('secrets', 'legacy .env files', o, {
    facts: { found: need(envFilesFact, { root: PATHS.root, content: opts.enabled }) },
    plan({ found }): Plan {
      const files = [...found.keys()];
      if (!files.length) return { changed: false };
      if (!opts.enabled) {
        return { changed: false, msg: `WARNING: ${files.join(', ')} still on disk; run with --migrate-env-files to move the values into Secrets Manager and remove the files` };
      }
      const plan = planMigration(config, found as Map<string, string>);
      if (plan.conflicts.length) throw new Error(`the .env files disagree on ${plan.conflicts.join(', ')}: fix them by hand first (nothing was migrated)`);
      if (plan.unknown.length) {
        throw new Error(`keys the config does not know: ${plan.unknown.join(', ')}; add them to containers[].secrets (or env), then re-run (nothing was migrated)`);
      }
      const names = [...plan.put.keys()].sort();
      return {
        changed: true,
        msg: `put ${names.length} value(s) into Secrets Manager, remove ${files.length} file(s)`,
        diff: [{ label: 'legacy .env migration', before: files.map((f) => `${f}\n`).join(''), after: names.map((n) => `secretsmanager:${n}\n`).join('') }],
        apply: async (ctx) => {
          const put = opts.put();
          for (const n of names) await put(n, plan.put.get(n)!);
          // shred first (overwrite in place), then remove; rm alone leaves the blocks readable
          await ctx.run(files.map((f) => sh`{ shred -u -- ${f} 2>/dev/null || rm -f -- ${f}; }`).join(' && '), 'remove migrated .env files');
          opts.onMigrated();
        },
      };
    },
  });
}
