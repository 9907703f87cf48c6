import { formatDelta, formatDiffDelta, formatTotal, formatUsd } from '../cost/estimate';
import type { Finding } from '../guardrails/types';
import type { Action, AttributeChange, ResourceChange, Review, RiskFlag, StackChanges } from './types';

/** The hidden marker the workflow finds its comment by. */
export const MARKER = '<!-- ziggie-review -->';
/** GitHub rejects comments over 65,536 characters; stay under with room for the truncation note. */
export const MAX_COMMENT = 60_000;

const SYMBOL: Record<Action, string> = { create: '+', update: '~', replace: '±', delete: '−', read: '⤓', 'no-op': ' ', forget: '⊘' };
const ICON: Record<RiskFlag['severity'], string> = { high: '🔴 high', medium: '🟠 medium', low: '⚪ low' };

export interface Counts {
  create: number;
  update: number;
  replace: number;
  delete: number;
}

export function counts(stack: StackChanges): Counts {
  const c: Counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const r of stack.changes) if (r.action in c) c[r.action as keyof Counts]++;
  return c;
}

/** Markdown-safe inline code for a value of any length. */
function code(value: string | undefined, max = 120): string {
  if (value === undefined) return '∅';
  const v = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  const clean = v.replace(/\r?\n/g, '⏎').replace(/\|/g, '\\|');
  const ticks = clean.includes('`') ? '``' : '`';
  return `${ticks}${ticks === '``' ? ' ' : ''}${clean}${ticks === '``' ? ' ' : ''}${ticks}`;
}

/** The attribute that names a created resource, shown beside it (never a sensitive one). */
const IDENTIFYING = ['name', 'bucket', 'function_name', 'alarm_name', 'role', 'instance_type', 'cidr_block', 'cidr_ipv4', 'description'];

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function resourceName(r: { address: string; path?: string }): string {
  return r.path ? `${code(r.address, 90)} <sub>${esc(r.path)}</sub>` : code(r.address, 90);
}

export function renderMarkdown(review: Review): string {
  const out: string[] = [MARKER];
  const all = [...review.stacks, ...review.plans];
  const total = all.reduce((acc, s) => {
    const c = counts(s);
    return { create: acc.create + c.create, update: acc.update + c.update, replace: acc.replace + c.replace, delete: acc.delete + c.delete };
  }, { create: 0, update: 0, replace: 0, delete: 0 });
  const high = review.risks.filter((r) => r.severity === 'high').length;
  const medium = review.risks.filter((r) => r.severity === 'medium').length;

  const title = review.base
    ? `## Infrastructure review: \`${review.base.label}\`${review.base.sha ? ` (${review.base.sha.slice(0, 7)})` : ''} → ${review.head.label}${review.head.sha ? ` (${review.head.sha})` : ''}`
    : `## Infrastructure review: ${review.head.label}${review.head.sha ? ` (${review.head.sha})` : ''}`;
  out.push(title, '');

  const bits: string[] = [];
  const changedStacks = review.stacks.filter((s) => s.status !== 'unchanged').length;
  if (review.base) bits.push(`**${changedStacks} of ${review.stacks.length} stacks change**`);
  if (review.plans.length) bits.push(`**terraform plan** for ${review.plans.map((p) => `\`${p.stack}\``).join(', ')}`);
  bits.push(`+${total.create} add · ~${total.update} change · ±${total.replace} replace · −${total.delete} destroy`);
  bits.push(high || medium ? `⚠️ ${high} high / ${medium} medium risk` : 'no risky changes');
  bits.push(guardrailHeadline(review));
  if (review.cost) {
    const c = review.cost;
    bits.push(c.diff
      ? `💰 ${formatTotal(c.diff.baseUsd, c.diff.baseUnpriced)} → **${formatTotal(c.diff.headUsd, c.diff.headUnpriced)}**/month (${formatDiffDelta(c.diff)}, scenario \`${c.head.scenario.name}\`)`
      : `💰 **${formatTotal(c.head.totalUsd, c.head.unpriced)}**/month (scenario \`${c.head.scenario.name}\`)`);
  }
  out.push(bits.join(' · '), '');

  if (review.stacks.length > 0 && review.base) out.push(...summaryTable(review.stacks, review), '');
  if (review.risks.length > 0) out.push(...riskSection(review.risks), '');
  out.push(...guardrailSection(review), '');
  if (review.cost) out.push(...costSection(review), '');
  if (review.plans.length > 0) {
    out.push('### Terraform plan', '');
    for (const p of review.plans) out.push(...stackDetails(p, true), '');
  }
  const changed = review.base ? review.stacks.filter((s) => s.status !== 'unchanged') : [];
  if (changed.length > 0) {
    out.push('### Changes by stack (synthesized Terraform, base → head)', '');
    for (const s of changed) out.push(...stackDetails(s, false), '');
  }
  if (review.warnings.length) out.push('> [!NOTE]', ...review.warnings.map((w) => `> ${esc(w)}`), '');
  const timings = Object.entries(review.timings).map(([k, v]) => `${k.replace(/_ms$/, '').replace(/_/g, ' ')} ${(v / 1000).toFixed(1)} s`).join(', ');
  out.push(`<sub>\`npm run review\` · offline: synthesized JSON${review.plans.length ? ' + terraform plan' : ''}, prices from cost/prices.*.json${timings ? ` · ${timings}` : ''}</sub>`);
  return truncate(out.join('\n'));
}

function guardrailHeadline(review: Review): string {
  const g = review.guardrails;
  if (!g.available) return 'guardrails: not run';
  return `guardrails: ${g.new.length ? `❌ **${g.new.length} new failure${g.new.length > 1 ? 's' : ''}**` : '✅ no new failures'}${g.fixed.length ? `, ${g.fixed.length} fixed` : ''}`;
}

function summaryTable(stacks: readonly StackChanges[], review: Review): string[] {
  const rows = ['| Stack | Status | + | ~ | ± | − | Risks | Guardrails new / fixed |', '|---|---|--:|--:|--:|--:|---|---|'];
  for (const s of stacks) {
    const c = counts(s);
    const risks = review.risks.filter((r) => r.stack === s.stack && r.source === 'synth');
    const h = risks.filter((r) => r.severity === 'high').length;
    const m = risks.filter((r) => r.severity === 'medium').length;
    const gNew = review.guardrails.new.filter((f) => f.stack === s.stack).length;
    const gFixed = review.guardrails.fixed.filter((f) => f.stack === s.stack).length;
    rows.push(`| \`${s.stack}\` | ${s.status} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${h || m ? `${h ? `🔴 ${h} ` : ''}${m ? `🟠 ${m}` : ''}`.trim() : '—'} | ${review.guardrails.available ? `${gNew ? `❌ ${gNew}` : '0'} / ${gFixed}` : 'n/a'} |`);
  }
  return rows;
}

function riskSection(risks: readonly RiskFlag[]): string[] {
  const rows = ['### ⚠️ Risky changes', '', '| Severity | Stack | Resource | What | From |', '|---|---|---|---|---|'];
  const shown = risks.slice(0, 60);
  for (const r of shown) rows.push(`| ${ICON[r.severity]} | \`${r.stack}\` | ${resourceName(r)} | ${esc(r.message)} | ${r.source} |`);
  if (risks.length > shown.length) rows.push(`| | | | …and ${risks.length - shown.length} more (see \`--json\`) | |`);
  return rows;
}

function findingRow(f: Finding): string {
  const { detail } = f;
  return `| \`${f.rule}\` | \`${f.stack}\` | ${resourceName(f)}${detail ? `<br>${esc(detail)}` : ''} | ${esc(f.why)} | ${esc(f.fix)} |`;
}

function guardrailSection(review: Review): string[] {
  const g = review.guardrails;
  const out = ['### Guardrails', ''];
  if (!g.available) return [...out, `Not run: ${g.reason ?? 'unavailable'}.`];
  if (g.reason) out.push(`> ${esc(g.reason)}`, '');
  const table = (title: string, findings: readonly Finding[]) => findings.length === 0 ? [] : [
    `**${title}** (${findings.length})`, '', '| Rule | Stack | Resource | Why | Fix |', '|---|---|---|---|---|', ...findings.slice(0, 40).map(findingRow), '',
  ];
  if (g.new.length + g.fixed.length + g.remaining.length === 0) out.push('✅ Every guardrail passes at head.', '');
  out.push(...table(review.base ? '❌ New failures' : '❌ Failures', g.new));
  out.push(...table('✅ Fixed', g.fixed));
  if (g.remaining.length) out.push('<details><summary>Failing before and after this change (' + g.remaining.length + ')</summary>', '', ...table('Still failing', g.remaining), '</details>', '');
  if (g.suppressed.length) {
    out.push(`<details><summary>Suppressed (${g.suppressed.length})</summary>`, '', '| Rule | Resource | Reason |', '|---|---|---|',
      ...g.suppressed.map((f) => `| \`${f.rule}\` | ${resourceName(f)} | ${esc(f.suppressed?.reason ?? '')} |`), '', '</details>');
  }
  return out;
}

function costSection(review: Review): string[] {
  const c = review.cost!;
  const s = c.head.scenario;
  const out = [`### 💰 Monthly cost (offline estimate, scenario \`${s.name}\`: GPU ${s.gpuHoursPerDay} h/day ${s.gpuPurchase}, S3 ${s.s3StorageGb} GB, CloudFront ${s.cloudfrontGbOut} GB, ${s.lambdaInvocationsPerMonth.toLocaleString('en-US')} Lambda calls, logs ${s.logsGbPerMonth} GB)`, ''];
  if (c.diff && c.base) {
    if (c.diff.lines.length === 0 && c.diff.deltaUsd !== null) out.push(`No cost change: ${formatTotal(c.diff.headUsd, c.diff.headUnpriced)}/month.`, '');
    else {
      out.push('| Line | Base | Head | Δ | How |', '|---|--:|--:|--:|---|');
      for (const l of c.diff.lines) out.push(`| ${esc(l.label)} | ${formatUsd(l.baseUsd)} | ${formatUsd(l.headUsd)} | ${formatDelta(l.headUsd - l.baseUsd)} | ${esc(l.basis)} |`);
      out.push(`| **Total** | **${formatTotal(c.diff.baseUsd, c.diff.baseUnpriced)}** | **${formatTotal(c.diff.headUsd, c.diff.headUnpriced)}** | **${formatDiffDelta(c.diff)}** | |`, '');
    }
  }
  out.push(`<details><summary>Every line at head (${formatTotal(c.head.totalUsd, c.head.unpriced)})</summary>`, '', '| Line | Monthly | How |', '|---|--:|---|',
    ...c.head.lines.map((l) => `| ${esc(l.label)} | ${formatUsd(l.monthlyUsd)} | ${esc(l.basis)}${l.note ? ` — ${esc(l.note)}` : ''} |`),
    ...c.head.unpriced.map((u) => `| ${esc(u)} | **unpriced** | no entry in cost/prices.${c.head.region}.json |`), '', '</details>', '');
  out.push('<details><summary>All scenarios</summary>', '', c.base ? '| Scenario | GPU | Base | Head | Δ |' : '| Scenario | GPU | Head |', c.base ? '|---|---|--:|--:|--:|' : '|---|---|--:|',
    ...c.scenarios.map((x) => c.base
      ? `| \`${x.name}\` | ${x.gpuHoursPerDay} h/day ${x.purchase} | ${formatTotal(x.baseUsd ?? 0, x.baseUnpriced ?? [])} | ${formatTotal(x.headUsd, x.headUnpriced)} | ${formatDiffDelta({ deltaUsd: (x.baseUnpriced ?? []).join() === x.headUnpriced.join() ? x.headUsd - (x.baseUsd ?? 0) : null, baseUnpriced: x.baseUnpriced ?? [], headUnpriced: x.headUnpriced })} |`
      : `| \`${x.name}\` | ${x.gpuHoursPerDay} h/day ${x.purchase} | ${formatTotal(x.headUsd, x.headUnpriced)} |`), '', '</details>');
  return out;
}

function stackDetails(s: StackChanges, isPlan: boolean): string[] {
  const c = counts(s);
  const label = s.status === 'added' ? ' (new stack)' : s.status === 'removed' ? ' (stack removed)' : '';
  const summary = `<b>${s.stack}</b>${label}: +${c.create} ~${c.update} ±${c.replace} −${c.delete}${s.outputs.length ? `, ${s.outputs.length} output change${s.outputs.length > 1 ? 's' : ''}` : ''}${s.unchanged ? ` · ${s.unchanged} unchanged` : ''}`;
  const out = [`<details${isPlan || s.changes.some((r) => r.action !== 'create') ? ' open' : ''}><summary>${summary}</summary>`, ''];
  for (const n of s.notes) out.push(`> ${esc(n)}`, '');
  if (s.changes.length === 0 && s.outputs.length === 0) out.push('No changes.', '');
  const order: Action[] = ['delete', 'replace', 'update', 'create', 'read', 'forget'];
  const sorted = [...s.changes].sort((a, b) => order.indexOf(a.action) - order.indexOf(b.action) || a.address.localeCompare(b.address));
  const creates = sorted.filter((r) => r.action === 'create');
  for (const r of sorted.filter((x) => x.action !== 'create')) out.push(...resourceBlock(r), '');
  if (creates.length) {
    out.push(`**Created (${creates.length})**`, '');
    for (const r of creates) {
      const key = IDENTIFYING.map((k) => [k, r.after?.[k]] as const).find(([, v]) => typeof v === 'string' || typeof v === 'number');
      out.push(`- \`+\` ${resourceName(r)}${key ? ` — ${key[0]} ${code(String(key[1]), 80)}` : ''}`);
    }
    out.push('');
    const withDocs = creates.filter((r) => r.attributes.some((a) => a.path.endsWith('policy') || a.sensitive));
    if (withDocs.length) {
      out.push('<details><summary>Policies of created resources</summary>', '');
      for (const r of withDocs) {
        for (const a of r.attributes.filter((x) => x.path.endsWith('policy'))) out.push(`${code(r.address, 90)} \`${a.path}\`:`, '', fence('json', prettyDoc(a.after)), '');
      }
      out.push('</details>', '');
    }
  }
  if (s.outputs.length) {
    out.push('| Output | | Base | Head |', '|---|---|---|---|');
    for (const o of s.outputs) out.push(`| \`${o.name}\` | ${o.action}${o.sensitive ? ' (sensitive)' : ''} | ${code(o.before)} | ${code(o.after)} |`);
    out.push('');
  }
  out.push('</details>');
  return out;
}

function resourceBlock(r: ResourceChange): string[] {
  const out = [`#### \`${SYMBOL[r.action]}\` ${r.action} ${resourceName(r)}`];
  const why: string[] = [];
  if (r.reason) why.push(`because ${r.reason}`);
  if (r.replacePaths?.length) why.push(`replace paths: ${r.replacePaths.map((p) => `\`${p}\``).join(', ')}`);
  if (r.previousAddress) why.push(`moved from \`${r.previousAddress}\``);
  if (why.length) out.push('', `<sub>${esc(why.join(' · '))}</sub>`);
  if (r.action === 'delete') return out;
  const plain = r.attributes.filter((a) => !a.documentDiff);
  if (plain.length) {
    out.push('', '| Attribute | Base | Head |', '|---|---|---|');
    for (const a of plain.slice(0, 50)) out.push(attributeRow(a));
    if (plain.length > 50) out.push(`| …${plain.length - 50} more | | |`);
  }
  for (const a of r.attributes.filter((x) => x.documentDiff)) {
    out.push('', `\`${a.path}\`${a.forcesReplacement ? ' (forces replacement)' : ''}:`, '', fence('diff', a.documentDiff!));
  }
  return out;
}

function attributeRow(a: AttributeChange): string {
  const flag = a.forcesReplacement ? ' ⚠️ forces replacement' : '';
  return `| \`${esc(a.path)}\`${flag} | ${a.kind === 'added' ? '∅' : code(a.before)} | ${a.kind === 'removed' ? '∅' : code(a.after)} |`;
}

function prettyDoc(value: string | undefined): string {
  try {
    return JSON.stringify(JSON.parse(value ?? ''), null, 2);
  } catch {
    return value ?? '';
  }
}

function fence(lang: string, body: string): string {
  const ticks = body.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${body}\n${ticks}`;
}

/** Cut at a line boundary, close any open <details> and code fence, and say where the rest is. */
export function truncate(markdown: string, max = MAX_COMMENT): string {
  if (markdown.length <= max) return markdown;
  const cut = markdown.slice(0, markdown.lastIndexOf('\n', max));
  const fences = (cut.match(/^`{3,}/gm) ?? []).length;
  const open = (cut.match(/<details/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  return [cut, fences % 2 ? '```' : '', ...Array.from({ length: Math.max(0, open) }, () => '</details>'),
    '', `> ✂️ Truncated at ${max.toLocaleString('en-US')} characters (GitHub's comment limit): run \`npm run review -- --json\` for everything.`].join('\n');
}

/** The review as JSON: everything the markdown shows, raw resource bodies left out (they may hold secrets). */
export function renderJson(review: Review): string {
  const strip = (s: StackChanges) => ({ ...s, counts: counts(s), changes: s.changes.map(({ before: _b, after: _a, ...rest }) => rest) });
  return JSON.stringify({
    ...review,
    stacks: review.stacks.map(strip),
    plans: review.plans.map(strip),
    summary: {
      high: review.risks.filter((r) => r.severity === 'high').length,
      medium: review.risks.filter((r) => r.severity === 'medium').length,
      newGuardrailFailures: review.guardrails.new.length,
      fixedGuardrailFailures: review.guardrails.fixed.length,
      ...(review.cost ? { monthlyUsd: { base: review.cost.diff?.baseUsd, head: review.cost.head.totalUsd, delta: review.cost.diff?.deltaUsd, baseUnpriced: review.cost.diff?.baseUnpriced, headUnpriced: review.cost.head.unpriced } } : {}),
    },
  }, null, 2);
}
