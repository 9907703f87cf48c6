/**
 * The one probe protocol: the needs of many tasks become one remote script (one round trip), and its output
 * becomes one parsed value per need.
 *
 * Needs are deduplicated by id; a batched fact gets one set of snippets for all its arguments, a per-argument
 * fact one set per argument. Every snippet's output is closed by a marker line carrying a random nonce and the
 * snippet's exit status, so no file content or command output can forge a boundary.
 */
import { randomBytes } from 'node:crypto';
import { commandsOf, type Fact, type Need, type Section } from './fact';

export interface Batch {
  script: string;
  /** parsed value of every need, by need id */
  parse(stdout: Buffer): Map<string, unknown>;
}

/** One gathering: a fact and the arguments one set of its snippets covers. */
interface Unit {
  fact: Fact<any, unknown>;
  args: unknown[];
  ids: string[];
  snippets: string[];
}

function unitsOf(needs: readonly Need<unknown>[]): Unit[] {
  const units: Unit[] = [];
  const batched = new Map<Fact<any, unknown>, Unit>();
  const seen = new Set<string>();
  for (const n of needs) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    if (n.fact.per === 'batch') {
      let u = batched.get(n.fact);
      if (!u) batched.set(n.fact, (u = { fact: n.fact, args: [], ids: [], snippets: [] })), units.push(u);
      u.args.push(n.arg);
      u.ids.push(n.id);
    } else units.push({ fact: n.fact, args: [n.arg], ids: [n.id], snippets: [] });
  }
  for (const u of units) u.snippets = commandsOf(u.fact.per === 'batch' ? u.fact.command(u.args) : u.fact.command(u.args[0]));
  return units;
}

export function composeBatch(needs: readonly Need<unknown>[], nonce = randomBytes(8).toString('hex')): Batch {
  const units = unitsOf(needs);
  const lines: string[] = [`N=${nonce}`, `m() { printf '\\n@@%s:%s:%s\\n' "$N" "$1" "$2"; }`];
  const started: string[] = [];
  const collected: string[] = [];
  units.forEach((u, i) =>
    u.snippets.forEach((s, j) => {
      const id = `${i}.${j}`;
      if (u.fact.concurrent) {
        started.push(`( ( ${s}\n) </dev/null >"$T/${id}" 2>/dev/null; echo $? >"$T/${id}.rc" ) &`);
        collected.push(`cat "$T/${id}"; m ${id} "$(cat "$T/${id}.rc")"`);
      } else lines.push(u.fact.inline ? `${s}\nm ${id} $?` : `( ${s}\n) </dev/null 2>/dev/null; m ${id} $?`);
    }),
  );
  if (started.length) {
    lines.splice(2, 0, `T=$(mktemp -d /dev/shm/probe.XXXXXX 2>/dev/null || mktemp -d) || exit 1`, `trap 'rm -rf "$T"' EXIT`, ...started);
    lines.push('wait', ...collected);
  }
  const script = lines.join('\n') + '\n';

  const parse = (stdout: Buffer): Map<string, unknown> => {
    const text = stdout.toString('latin1');
    const re = new RegExp(`\\n@@${nonce}:([0-9.]+):(\\d+)\\n`, 'g');
    const sections = new Map<string, Section>();
    let last = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const out = Buffer.from(text.slice(last, m.index), 'latin1');
      sections.set(m[1]!, { out, text: out.toString('utf8'), code: Number(m[2]) });
      last = m.index + m[0].length;
    }
    const values = new Map<string, unknown>();
    units.forEach((u, i) => {
      const secs = u.snippets.map((_, j) => sections.get(`${i}.${j}`));
      if (secs.some((s) => !s)) throw new Error(`probe output was cut short at fact "${u.fact.name}" (connection lost or remote shell failed)`);
      const parsed = u.fact.per === 'batch' ? u.fact.parse(secs as Section[], u.args) : [u.fact.parse(secs as Section[], u.args[0])];
      u.ids.forEach((id, k) => values.set(id, parsed[k]));
    });
    return values;
  };
  return { script, parse };
}
