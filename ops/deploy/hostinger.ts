/**
 * deploy_application on the VPS: roll ONE service to a new image tag through the provisioning library.
 *
 * Only that service's compose project is touched (`docker compose -p ziggie-<svc> up -d`), so nothing else
 * restarts. The new compose.yaml is the old one with only `image` changed, validated by `docker compose config`
 * before it replaces the old one. Then the deploy waits for the container's health check (or, without one, for it
 * to stay up without restarting); if it fails, the previous compose.yaml goes back, the old version is started
 * again and the deploy fails with what happened. The previous tag is kept in /var/lib/ziggie/deploy/<svc>.json so
 * `rollback` works later.
 */
import { parseDocument } from 'yaml';
import {
  definePlaybook, defineTask, fileContent, runPlaybook, sh, SilentOutput, writeFileAtomic,
  type Inventory, type InventoryHost, type Plan, type Remote, type RunReport, type Task, type TaskContext,
} from '../../provision';
import { containerName, projectDir, projectName } from '../../playbooks/hostinger-vps/render';
import {
  DEPLOY_STATE_DIR, deployStatePath, parseDeployState, renderDeployState, type DeployState,
} from '../../playbooks/hostinger-vps/deploy-state';

export { DEPLOY_STATE_DIR, type DeployState };

export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeployError';
  }
}

/** How the control plane reaches the VPS: the provisioning inventory (host keys pinned there). */
export interface VpsDeployTarget {
  inventory: Inventory;
  /** Host pattern (default: every host of the inventory; a VPS inventory has one). */
  limit?: string;
  /** Tests: how to connect (default: the library's SSH connection). */
  connect?: (host: InventoryHost, notice: (msg: string) => void) => Promise<Remote>;
}

export interface ServiceRollout {
  service: string;
  /** `deploy`: to `tag`; `rollback`: to the previous image recorded on the host. */
  mode: 'deploy' | 'rollback';
  tag?: string;
  dryRun: boolean;
  healthTimeoutMs: number;
  /** Without a health check: how long the container must stay up without restarting. */
  stableMs?: number;
  pollMs?: number;
}

export interface RolloutResult {
  provider: 'hostinger';
  service: string;
  dryRun: boolean;
  changed: boolean;
  from: string | null;
  to: string | null;
  rolledBack: boolean;
  health: string | null;
  message: string;
  host: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** `ghcr.io/ziggie/api:1.0.0` + `1.1.0` → `ghcr.io/ziggie/api:1.1.0` (a digest reference is replaced too). */
export function withTag(image: string, tag: string): string {
  if (!TAG.test(tag)) throw new DeployError(`"${tag}" is not an image tag (letters, digits, _ . -; at most 128)`);
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
  return `${repo}:${tag}`;
}

export const statePath = deployStatePath;

/** The compose text with only the service's image replaced (comments and order kept). */
export function replaceImage(composeText: string, service: string, image: string): string {
  const doc = parseDocument(composeText);
  if (!doc.hasIn(['services', service, 'image'])) throw new DeployError(`compose file has no services.${service}.image`);
  doc.setIn(['services', service, 'image'], image);
  return doc.toString({ lineWidth: 0 });
}

export function imageOf(composeText: string, service: string): string | undefined {
  const v = parseDocument(composeText).getIn(['services', service, 'image']);
  return typeof v === 'string' ? v : undefined;
}

type Probe = { status: string; health: string; restarts: number };

async function inspect(ctx: TaskContext, container: string): Promise<Probe> {
  const r = await ctx.exec(sh`docker inspect -f '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.RestartCount}}' ${container}`);
  const [status = 'missing', health = 'none', restarts = '0'] = r.code === 0 ? r.stdout.toString().trim().split('|') : [];
  return { status, health, restarts: Number(restarts) };
}

/** Wait until healthy (or stable without a health check); the reason when it is not. */
async function waitHealthy(ctx: TaskContext, container: string, o: Required<Pick<ServiceRollout, 'healthTimeoutMs' | 'stableMs' | 'pollMs'>>):
  Promise<{ ok: boolean; health: string; why: string }> {
  const started = Date.now();
  const first = await inspect(ctx, container);
  let stableSince = first.status === 'running' ? Date.now() : 0;
  for (let p = first; ; p = await inspect(ctx, container)) {
    const waited = `${Math.round((Date.now() - started) / 1000)} s`;
    if (p.health === 'healthy') return { ok: true, health: 'healthy', why: `healthy after ${waited}` };
    if (p.health === 'unhealthy') return { ok: false, health: 'unhealthy', why: `health check failed (unhealthy after ${waited})` };
    if (['exited', 'dead', 'missing'].includes(p.status)) return { ok: false, health: p.status, why: `container ${p.status} after ${waited}` };
    if (p.restarts > first.restarts) return { ok: false, health: 'restarting', why: `container restarted ${p.restarts - first.restarts} time(s) within ${waited}` };
    if (p.health === 'none') {
      if (p.status !== 'running') stableSince = 0;
      else if (!stableSince) stableSince = Date.now();
      else if (Date.now() - stableSince >= o.stableMs) return { ok: true, health: 'running', why: `running without restarts for ${Math.round(o.stableMs / 1000)} s (no health check defined)` };
    }
    if (Date.now() - started > o.healthTimeoutMs) return { ok: false, health: p.health === 'none' ? p.status : p.health, why: `not healthy within ${Math.round(o.healthTimeoutMs / 1000)} s (still ${p.health === 'none' ? p.status : p.health})` };
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
}

/** The provisioning task that does one rollout; what happened is written to `out`. */
export function rolloutTask(o: ServiceRollout, out: { result?: Omit<RolloutResult, 'host'> }): Task {
  const dir = projectDir(o.service);
  const composePath = `${dir}/compose.yaml`;
  const container = containerName(o.service);
  const dc = (file: string) => sh`docker compose -p ${projectName(o.service)} --project-directory ${dir} -f ${file}`;
  const wait = { healthTimeoutMs: o.healthTimeoutMs, stableMs: o.stableMs ?? 10_000, pollMs: o.pollMs ?? 1000 };
  return defineTask('deploy', `${o.mode} ${o.service}${o.tag ? ` to ${o.tag}` : ''}`, {}, {
    facts: { composeFile: fileContent(composePath), stateFile: fileContent(statePath(o.service)) },
    plan({ composeFile: composeBuf, stateFile }, env): Plan {
      if (!composeBuf) throw new DeployError(`${o.service} is not installed on ${env.host.name} (no ${composePath}): run npm run provision:vps first`);
      const composeText = composeBuf.toString('utf8');
      const state = parseDeployState(stateFile?.toString('utf8') ?? '{}');
      const current = imageOf(composeText, o.service);
      if (!current) throw new DeployError(`${composePath} has no services.${o.service}.image`);
      let target: string;
      if (o.mode === 'rollback') {
        if (!state.previous) throw new DeployError(`no previous version of ${o.service} is recorded on ${env.host.name}: nothing to roll back to`);
        target = state.previous;
      } else {
        target = withTag(current, o.tag!);
      }
      const base = { provider: 'hostinger' as const, service: o.service, dryRun: o.dryRun, from: current, to: target, rolledBack: false, health: null };
      if (current === target) {
        out.result = { ...base, changed: false, message: `${o.service} already runs ${current}` };
        return { changed: false, msg: out.result.message };
      }
      out.result = { ...base, changed: true, message: `would roll ${o.service} from ${current} to ${target}` };
      const next = replaceImage(composeText, o.service, target);
      return {
        changed: true,
        msg: `${current} -> ${target}`,
        diff: [{ label: composePath, before: composeText, after: next }],
        apply: async (ctx) => {
          const record = async (s: DeployState) => {
            await ctx.run(sh`mkdir -p -m 0755 ${DEPLOY_STATE_DIR}`, 'deploy state dir');
            await writeFileAtomic(ctx, statePath(o.service), renderDeployState(s), { mode: '0644' });
          };
          const rollTo = async (text: string) => {
            await writeFileAtomic(ctx, composePath, text, { validate: `${dc('%s')} config -q` });
            await ctx.run(`${dc(composePath)} up -d --remove-orphans --pull missing`, `docker compose up -d ${o.service}`, { timeoutMs: 900_000 });
          };
          const at = new Date().toISOString();
          const history = (entry: DeployState['history'][number]) => [...state.history, entry].slice(-20);
          // the image provision:vps rendered from the config, before the first deploy: a re-run keeps the
          // deployed image until the config names another (playbooks/hostinger-vps/deploy-state.ts)
          const config = state.config ?? (state.current ? undefined : current);
          await rollTo(next);
          const h = await waitHealthy(ctx, container, wait);
          if (h.ok) {
            const previous = current;
            await record({ config, current: target, previous, history: history({ image: target, at, result: o.mode === 'rollback' ? 'rollback' : 'deployed' }) });
            out.result = { ...base, changed: true, health: h.health, message: `${o.service} now runs ${target} (${h.why}); previous ${current} kept for rollback` };
            return out.result.message;
          }
          await rollTo(composeText);
          const back = await waitHealthy(ctx, container, wait);
          await record({ config, current, previous: state.previous, history: history({ image: target, at, result: 'rolled-back' }) });
          out.result = {
            ...base, changed: false, rolledBack: true, health: h.health,
            message: `${target} failed: ${h.why}; rolled back to ${current} (${back.ok ? back.why : `which is not healthy either: ${back.why}`})`,
          };
          throw new DeployError(out.result.message);
        },
      };
    },
  });
}

/** Run one rollout on the VPS. Dry run: exactly what would change, nothing changed. */
export async function rollService(target: VpsDeployTarget, o: ServiceRollout): Promise<RolloutResult> {
  const out: { result?: Omit<RolloutResult, 'host'> } = {};
  const playbook = definePlaybook({ name: `deploy-${o.service}`, hosts: 'all', gatherFacts: false, tasks: () => [rolloutTask(o, out)] });
  const report: RunReport = await runPlaybook(playbook, target.inventory, {
    check: o.dryRun, limit: target.limit, output: new SilentOutput(), connect: target.connect,
  });
  const host = report.hosts[0];
  if (report.hosts.length !== 1 || !host) throw new DeployError(`deploy expects exactly one VPS host in the inventory, found ${report.hosts.length}`);
  if (host.status !== 'ok') {
    throw new DeployError(out.result?.rolledBack ? out.result.message : `${o.service} on ${host.name}: ${host.error ?? host.tasks.find((t) => t.status === 'failed')?.msg ?? host.status}`);
  }
  if (!out.result) throw new DeployError(`${o.service} on ${host.name}: the rollout reported nothing`);
  return { ...out.result, host: host.name };
}
