/**
 * The cloud page: instances with start/stop (only for a token that holds those capabilities), and the cost
 * dashboard. Everything comes from the control-center API; anything the API cannot tell is shown as unknown.
 */
import { barChartSvg } from '../../cost/svg-chart';
import { api, ApiError, token } from './api';
import type { Costs, DailyCosts, GpuHours, Instance, Me, PowerResult } from './types';

const POLL_MS = Number(document.body.dataset.pollMs ?? '2000');
const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector(sel) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

const usd = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? 'unknown' : `$${n.toFixed(digits)}`);
const known = (v: string | number | null | undefined, fmt: (x: never) => string = String) => (v === null || v === undefined ? 'unknown' : fmt(v as never));

function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

let me: Me;
const can = (cap: string) => me.capabilities.includes(cap);
let pollTimer: number | undefined;

function showError(where: HTMLElement, err: unknown): void {
  where.textContent = err instanceof ApiError ? `${err.kind}: ${err.message}` : String((err as Error)?.message ?? err);
  where.hidden = false;
}

function row(label: string, value: string, cls = ''): HTMLElement {
  return el('div', { class: `kv ${cls}`.trim() }, el('span', { class: 'k' }, label), el('span', { class: 'v' }, value));
}

function instanceCard(i: Instance): HTMLElement {
  const card = el('article', { class: `instance ${i.role}`, 'data-id': `${i.provider}/${i.id}`, 'data-state': i.state });
  card.append(el('h3', {}, i.role === 'gpu' ? 'GPU (AWS)' : 'VPS (Hostinger)', ' ', el('span', { class: `state state-${i.state}` }, i.state)));
  if (i.gpu) {
    const g = i.gpu;
    card.append(row('type', known(g.instanceType)), row('market', known(g.market)),
      row(g.market === 'spot' ? 'Spot price' : 'price', g.usdPerHour === null ? 'unknown' : `${usd(g.usdPerHour, 4)}/h${g.rateSource ? ` (${g.rateSource})` : ''}`),
      row('uptime this session', i.state === 'running' ? known(g.uptimeSeconds, duration) : '—'),
      row('session cost so far', usd(i.costUsd)));
    if (i.state === 'running' && i.address) card.append(el('div', { class: 'kv url' }, el('span', { class: 'k' }, 'ComfyUI'), el('a', { href: i.address, target: '_blank', rel: 'noopener' }, i.address)));
  }
  if (i.vps) {
    const v = i.vps;
    const containers = v.containersUp === null || v.containersTotal === null ? 'unknown' : `${v.containersUp}/${v.containersTotal}`;
    card.append(row('address', known(i.address)), row('containers up', containers), row('disk', known(v.diskGb, (n: number) => `${n} GB`)),
      row('last backup', known(v.lastBackupAt)), row('fixed price', `${usd(i.costUsd)}/month`));
    if (v.unknownWhy && (v.containersUp === null || v.lastBackupAt === null)) card.append(el('p', { class: 'note' }, `unknown: ${v.unknownWhy}`));
  }
  card.append(el('p', { class: 'detail' }, i.detail));
  const error = el('p', { class: 'error', role: 'alert' });
  error.hidden = true;
  const actions = el('div', { class: 'actions' });
  const id = i.role === 'gpu' && i.id === 'gpu' ? 'gpu' : i.id;
  for (const action of ['start', 'stop'] as const) {
    if (!can(`cloud:${action}-instance`)) continue;
    const busy = i.state === 'starting' || i.state === 'stopping';
    const pointless = (action === 'start' && i.state === 'running') || (action === 'stop' && i.state === 'stopped');
    const b = el('button', { type: 'button', class: `btn-${action}`, 'data-action': action }, action === 'start' ? 'Start' : 'Stop');
    b.disabled = busy || pointless || i.state === 'terminated' || i.state === 'not-found';
    b.addEventListener('click', () => void power(i, id, action, error));
    actions.append(b);
  }
  if (actions.childElementCount) card.append(actions);
  card.append(error);
  return card;
}

async function power(i: Instance, id: string, action: 'start' | 'stop', error: HTMLElement): Promise<void> {
  const name = i.role === 'gpu' ? 'the GPU instance' : 'the VPS';
  if (!window.confirm(`${action === 'start' ? 'Start' : 'Stop'} ${name} (${i.provider} ${i.id})?`)) return;
  error.hidden = true;
  try {
    const r = await api<PowerResult>('POST', `/api/cloud/instances/${i.provider}/${encodeURIComponent(id)}/${action}`, {});
    $('#status').textContent = r.message;
    await loadInstances();
  } catch (err) {
    await loadInstances().catch(() => undefined);
    // the card was redrawn: show the error on the new one
    showError(document.querySelector<HTMLElement>(`[data-id="${i.provider}/${i.id}"] .error`) ?? error, err);
  }
}

async function loadInstances(): Promise<void> {
  const { instances, fetchedAt } = await api<{ instances: Instance[]; fetchedAt: string }>('GET', '/api/cloud/instances');
  const list = $('#instances');
  list.replaceChildren(...instances.map(instanceCard));
  $('#instances-at').textContent = `as of ${new Date(fetchedAt).toLocaleTimeString()}`;
  // live state: keep asking while anything is on its way up or down
  window.clearTimeout(pollTimer);
  if (instances.some((x) => x.state === 'starting' || x.state === 'stopping')) {
    pollTimer = window.setTimeout(() => void loadInstances().catch((e) => showError($('#instances-error'), e)), POLL_MS);
  }
}

function costSummary(c: Costs): HTMLElement {
  const box = el('div', { class: 'summary' });
  box.append(row('month', c.month), row('AWS month to date', usd(c.aws.monthToDateUsd)), row('Hostinger (fixed)', usd(c.hostinger.fixedMonthlyUsd)),
    row('total month to date', usd(c.total.monthToDateUsd), 'total'),
    row('forecast (month end)', c.total.forecastUsd === null ? `unknown${c.aws.forecastNote ? ` (${c.aws.forecastNote})` : ''}` : usd(c.total.forecastUsd)));
  if (c.budget) box.append(row(`budget ${c.budget.name}`, `${usd(c.budget.limitUsd)} — ${c.budget.status}`, `budget-${c.budget.status}`));
  else box.append(row('budget', 'unknown'));
  for (const t of c.thresholdsUsd ?? []) {
    const f = c.total.forecastUsd;
    box.append(row(`threshold ${usd(t)}`, f === null ? 'forecast unknown' : f >= t ? 'forecast crosses it' : 'forecast below', f !== null && f >= t ? 'crossed' : ''));
  }
  const table = el('table', { class: 'services' }, el('thead', {}, el('tr', {}, el('th', {}, 'service'), el('th', {}, 'month to date'))));
  const body = el('tbody');
  for (const s of c.aws.byService) body.append(el('tr', {}, el('td', {}, s.service), el('td', { class: 'num' }, usd(s.usd))));
  body.append(el('tr', {}, el('td', {}, 'Hostinger VPS (fixed)'), el('td', { class: 'num' }, usd(c.hostinger.fixedMonthlyUsd))));
  table.append(body);
  box.append(table);
  return box;
}

function chart(target: string, svg: string): void {
  // barChartSvg escapes every label and value it writes
  $(target).innerHTML = svg;
}

async function loadCosts(): Promise<void> {
  const jobs: Promise<void>[] = [];
  if (can('cloud:costs')) {
    jobs.push(api<Costs>('GET', '/api/cloud/costs/current').then((c) => { $('#costs').replaceChildren(costSummary(c)); }));
  }
  if (can('cloud:cost-daily')) {
    jobs.push(api<DailyCosts>('GET', '/api/cloud/costs/daily?days=90').then((d) => {
      chart('#trend', barChartSvg(d.days.map((x) => ({ label: x.date, value: x.usd })), { title: `AWS cost per day, last ${d.days.length} days`, format: (v) => `$${v.toFixed(2)}` }));
    }));
  }
  if (can('cloud:gpu-hours')) {
    jobs.push(api<GpuHours>('GET', '/api/cloud/gpu-hours?days=90').then((g) => {
      chart('#gpu-hours', barChartSvg(g.days.map((x) => ({ label: x.date, value: x.hours })), { title: `${g.instanceType} hours per day`, format: (v) => `${v.toFixed(1)} h` }));
    }));
  }
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) showError($('#costs-error'), failed.reason);
}

async function boot(): Promise<void> {
  if (!token.get()) {
    $('#login').hidden = false;
    return;
  }
  try {
    me = await api<Me>('GET', '/api/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) token.clear();
    $('#login').hidden = false;
    showError($('#login-error'), err);
    return;
  }
  $('#login').hidden = true;
  $('#main').hidden = false;
  $('#whoami').textContent = `${me.agent}${can('cloud:start-instance') || can('cloud:stop-instance') ? '' : ' (read-only)'}`;
  await Promise.all([
    loadInstances().catch((e) => showError($('#instances-error'), e)),
    loadCosts(),
  ]);
  document.body.dataset.ready = 'true';
}

$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token.set(($<HTMLInputElement>('#token')).value);
  ($<HTMLInputElement>('#token')).value = '';
  void boot();
});
$('#logout').addEventListener('click', () => { token.clear(); location.reload(); });
void boot();
