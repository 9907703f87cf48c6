/**
 * The `cdktf …` and `npm run …` command lines written in README.md and docs/**\/*.md, and a check of each against
 * the REAL command-line interfaces: cdktf-cli's own `--help` (commands, options and their types, positionals),
 * the stacks and dependencies of a real synth (cdktf.out/manifest.json), package.json's scripts, and the
 * `--help` of the project's commander CLIs (subcommands, options, arguments).
 *
 * Placeholders written in the docs are accepted where a value goes: `<stack>`, `<id>`, `…`/`...` (and anything after
 * a bare `…`, which stands for "more arguments").
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = path.resolve(__dirname, '../..');

export interface DocCommand {
  /** `README.md:104` */
  readonly where: string;
  /** The command as written (one segment of a line: `a && b` and `$(b)` give two). */
  readonly text: string;
  readonly argv: string[];
  readonly tool: 'cdktf' | 'npm';
}

// ── extraction ───────────────────────────────────────────────────────────────────────────────────────

export function markdownFiles(repo = REPO): string[] {
  const docs = (dir: string): string[] => readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? docs(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : []);
  return ['README.md', ...docs('docs')];
}

/** Every cdktf/npm command in a markdown text: lines of fenced code blocks, and inline code spans in prose. */
export function commandsIn(markdown: string, file: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = markdown.split('\n');
  let fenced = false;
  let prose: Array<{ text: string; line: number }> = [];
  const flushProse = () => {
    // An inline code span may wrap onto the next line of its paragraph.
    const text = prose.map((p) => p.text).join('\n');
    for (const m of text.matchAll(/`([^`]+)`/g)) {
      const line = prose[text.slice(0, m.index).split('\n').length - 1].line;
      out.push(...segments(m[1].replace(/\s*\n\s*/g, ' ')).flatMap((s) => commandOf(s, `${file}:${line}`)));
    }
    prose = [];
  };
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      if (!fenced) flushProse();
      fenced = !fenced;
      return;
    }
    if (fenced) {
      // A shell line starts with a command word; a layout or output line ("main.ts  the app; npm run …") does not.
      const shell = stripComment(line.replace(/^\s*\$ /, ''));
      const first = tokenize(shell).find((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)) ?? '';
      if (/^([a-z][\w-]*|\.)$/.test(first)) out.push(...segments(shell).flatMap((s) => commandOf(s, `${file}:${i + 1}`)));
    } else if (line.trim() === '') flushProse();
    else prose.push({ text: line, line: i + 1 });
  });
  flushProse();
  return out;
}

/** `a && b | c; $(d)` → the commands a, b, c, d (a command substitution is a command of its own). */
function segments(line: string): string[] {
  const inner = [...line.matchAll(/\$\(([^)]*)\)/g)].map((m) => m[1]);
  const outer = line.replace(/\$\(([^)]*)\)/g, 'SUBST');
  return [...outer.split(/&&|\|\||;|\|/), ...inner].map((s) => s.trim()).filter(Boolean);
}

function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function commandOf(segment: string, where: string): DocCommand[] {
  // `<base branch>` is one placeholder; `< in.txt`, `> out.json`, `2>&1` are the shell's, not the command's.
  const words = withoutRedirections(tokenize(segment.replace(/<([^<>]*)>/g, (m) => m.replace(/\s+/g, '_'))))
    .map((w) => w.replace(/^\[(?=-)|(?<=\w)\]$/g, '')); // usage notation: `[-- --port N]` is checked as written inside

  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift(); // VAR=value prefixes
  if (words[0] === 'npx' && words[1] === 'cdktf') words.shift();
  if (words[0] === 'cdktf' && words.length > 1) return [{ where, text: segment, argv: words.slice(1), tool: 'cdktf' }];
  // `npm run` alone is prose about npm scripts in general.
  if (words[0] === 'npm' && ['start', 'test'].includes(words[1] ?? '')) return [{ where, text: segment, argv: words.slice(1), tool: 'npm' }];
  if (words[0] === 'npm' && words[1] === 'run' && words.slice(2).some((w) => !w.startsWith('-'))) {
    return [{ where, text: segment, argv: words.slice(1), tool: 'npm' }];
  }
  return [];
}

function withoutRedirections(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (/^\d?(>>?|<)(&\d)?$/.test(words[i])) {
      if (!/&\d$/.test(words[i])) i++; // and its file
    } else out.push(words[i]);
  }
  return out;
}

/** Shell words: whitespace-separated, single and double quotes grouped (no expansion). */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote = '';
  let started = false;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = '';
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started || current) words.push(current);
      current = '';
      started = false;
    } else current += c;
  }
  if (started || current) words.push(current);
  return words;
}

export function docCommands(repo = REPO): DocCommand[] {
  return markdownFiles(repo).flatMap((f) => commandsIn(readFileSync(path.join(repo, f), 'utf8'), f));
}

const isPlaceholder = (w: string) => /^<[^>]+>$/.test(w) || w === '…' || w === '...' || /^[A-Z][A-Z_]*$/.test(w);
const isRest = (w: string) => w === '…' || w === '...';

// ── usage, read from the real CLIs' help ─────────────────────────────────────────────────────────────

export interface OptionSpec { name: string; alias?: string; takesValue: boolean; negatable: boolean }
export interface Usage {
  /** Subcommand names (commander: "Commands:"; cdktf: `cdktf <name>`). */
  commands: string[];
  options: OptionSpec[];
  /** Positional arguments from the usage line: `<name>` required, `[name]` optional, `…` variadic. */
  positionals: Array<{ name: string; required: boolean; variadic: boolean }>;
  text: string;
}

/** Parse a yargs (cdktf) or commander help text. */
export function parseHelp(text: string, usageLinePrefix: RegExp): Usage {
  const lines = text.split('\n');
  const commands: string[] = [];
  const options: OptionSpec[] = [];
  let section = '';
  for (const line of lines) {
    if (/^(Commands|Options|Positionals|Arguments):\s*$/.test(line.trim())) {
      section = line.trim().replace(':', '');
      continue;
    }
    if (section === 'Commands') {
      const m = /^\s{2}(?:cdktf |\S+ )?(?:cdktf )?([a-z][\w:-]*)/.exec(line);
      const cdktf = /^\s{2}cdktf ([a-z][\w-]*)/.exec(line);
      if (cdktf) commands.push(cdktf[1]);
      else if (m && /^\s{2}\S/.test(line)) commands.push(m[1]);
    }
    if (section === 'Options') {
      const m = /^\s+(?:-(\w), )?--([\w-]+)(?:[ =](<[^>]+>|\[[^\]]+\]))?(.*)$/.exec(line);
      if (!m) continue;
      const [, alias, name, commanderValue, rest] = m;
      const yargsType = /\[(boolean|string|number|array|count)\]/.exec(rest)?.[1];
      const takesValue = commanderValue !== undefined || (yargsType !== undefined ? yargsType !== 'boolean' && yargsType !== 'count' : false)
        || (!yargsType && /^\s+\S/.test(rest) && usageLinePrefix.source.startsWith('^cdktf'));
      options.push({ name, ...(alias ? { alias } : {}), takesValue, negatable: yargsType === 'boolean' });
    }
  }
  // Options a CLI names only in its description ("Also: --snapshot-first …") are part of its usage too.
  for (const m of text.matchAll(/(?<![\w-])--([a-z][\w-]*)/g)) {
    if (!options.some((o) => o.name === m[1])) options.push({ name: m[1], takesValue: false, negatable: false });
  }
  const usageLine = lines.find((l) => usageLinePrefix.test(l.trim())) ?? '';
  const positionals = [...usageLine.replace(usageLinePrefix, '').matchAll(/([<[])([\w-]+(?:\.[\w-]+)*)(\.\.\.?)?[>\]]/g)]
    .filter((m) => m[2] !== 'options' && m[2] !== 'command')
    .map((m) => ({ name: m[2], required: m[1] === '<', variadic: Boolean(m[3]) }));
  return { commands, options, positionals, text };
}

async function help(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 })
    .catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
  return `${r.stdout}\n${r.stderr}`;
}

export const CDKTF_BIN = path.join(REPO, 'node_modules/.bin/cdktf');

/** The environment of terraform/offline.env, for running cdktf here with no call home. */
export function cdktfEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    TF_CLI_CONFIG_FILE: path.join(REPO, 'terraform/mirror.tfrc'), ...extra,
  };
}

/** Usage of `cdktf` and of each of its commands, from the real CLI's --help (memoized per command). */
export class CdktfUsage {
  private readonly cache = new Map<string, Promise<Usage>>();
  usage(command?: string): Promise<Usage> {
    const key = command ?? '';
    if (!this.cache.has(key)) {
      this.cache.set(key, help(CDKTF_BIN, command ? [command, '--help'] : ['--help'], cdktfEnv())
        .then((text) => parseHelp(text, new RegExp(`^cdktf ${command ?? ''}`))));
    }
    return this.cache.get(key)!;
  }
}

/** Usage of `npm run <script> -- <subcommands…> --help` for the project's commander CLIs (memoized). */
export class NpmUsage {
  private readonly cache = new Map<string, Promise<Usage>>();
  constructor(private readonly scripts: Record<string, string>) {}
  usage(script: string, path: string[]): Promise<Usage> {
    const key = [script, ...path].join(' ');
    if (!this.cache.has(key)) {
      this.cache.set(key, help('npm', ['run', '--silent', script, '--', ...path, '--help'], process.env)
        .then((text) => parseHelp(text, /^Usage: \S+( \S+)*? (\[options\]|\[command\]|<|\[|$)/)));
    }
    return this.cache.get(key)!;
  }
}

// ── checks ───────────────────────────────────────────────────────────────────────────────────────────

export interface AppStacks { names: string[]; dependencies: Record<string, string[]> }

export function stacksOf(manifestFile: string): AppStacks {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { stacks: Record<string, { dependencies: string[] }> };
  return {
    names: Object.keys(manifest.stacks),
    dependencies: Object.fromEntries(Object.entries(manifest.stacks).map(([n, s]) => [n, s.dependencies])),
  };
}

interface Parsed { positionals: string[]; flags: Set<string>; errors: string[] }

/** Options and positionals against a usage (yargs/commander rules: `--x=v`, `--x v`, `-a v`, `--no-x`). */
function parseArgs(args: string[], options: OptionSpec[]): Parsed {
  const parsed: Parsed = { positionals: [], flags: new Set(), errors: [] };
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (isRest(word)) break;
    if (word === '--') {
      parsed.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      parsed.positionals.push(word);
      continue;
    }
    const [flag, inline] = word.split('=', 2) as [string, string | undefined];
    const spec = flag.startsWith('--')
      ? options.find((o) => o.name === flag.slice(2)) ?? options.find((o) => o.negatable && `no-${o.name}` === flag.slice(2))
      : options.find((o) => o.alias === flag.slice(1));
    if (!spec) {
      parsed.errors.push(`unknown option ${flag}`);
      continue;
    }
    parsed.flags.add(spec.name);
    if (spec.takesValue && inline === undefined) {
      if (i + 1 >= args.length || (args[i + 1].startsWith('-') && !isPlaceholder(args[i + 1]))) parsed.errors.push(`option ${flag} needs a value`);
      else i++;
    }
  }
  return parsed;
}

/** What is wrong with a `cdktf …` line, judged by the real CLI's usage and the app's stacks; [] when nothing. */
export async function checkCdktf(argv: string[], cli: CdktfUsage, app: AppStacks): Promise<string[]> {
  const [command, ...args] = argv;
  if (isPlaceholder(command)) return []; // `npx cdktf …`, `cdktf <command>`: prose about the CLI as a whole
  const root = await cli.usage();
  if (!root.commands.includes(command)) return [`unknown cdktf command "${command}" (cdktf --help lists: ${root.commands.join(', ')})`];
  const usage = await cli.usage(command);
  const { positionals, flags, errors } = parseArgs(args, usage.options);
  const spec = usage.positionals[0];
  if (!spec && positionals.length) errors.push(`cdktf ${command} takes no arguments, got ${positionals.join(' ')}`);
  if (spec && !spec.variadic && positionals.length > 1) errors.push(`cdktf ${command} takes one ${spec.name}, got ${positionals.join(' ')}`);
  if (spec && /stack/.test(spec.name)) {
    for (const p of positionals.filter((w) => !isPlaceholder(w))) {
      if (!app.names.some((n) => globMatch(p, n))) errors.push(`no stack matches "${p}" (stacks: ${app.names.join(', ')})`);
    }
    const named = positionals.some(isPlaceholder) ? undefined : app.names.filter((n) => positionals.some((p) => globMatch(p, n)));
    if (!positionals.length && app.names.length > 1 && /Required when more than one stack/.test(usage.text)) {
      errors.push(`cdktf ${command} needs the stack(s) to run: the app has ${app.names.length}`);
    }
    if (named && !flags.has('ignore-missing-stack-dependencies')) {
      if (command === 'deploy' || command === 'apply') {
        const missing = [...new Set(named.flatMap((n) => app.dependencies[n] ?? []))].filter((d) => !named.includes(d));
        if (missing.length) errors.push(`dependencies not included in the stacks to run: ${missing.join(', ')}`);
      }
      if (command === 'destroy') {
        const dependants = app.names.filter((n) => (app.dependencies[n] ?? []).some((d) => named.includes(d)) && !named.includes(n));
        if (dependants.length) errors.push(`dependant stacks not included in the stacks to run: ${dependants.join(', ')}`);
      }
    }
  }
  return errors;
}

/** cdktf matches stack ids with globs (`'*'`, `net*`); a plain name matches itself. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/**
 * Scripts started through the project's launchers (`node bin/run.mjs …`, `sh bin/start.sh …`) are its own commander CLIs, whose `--help`
 * does nothing else: their arguments are checked against that help. Others (jest, tsc, depcruise) only need to exist.
 */
export const checkedByHelp = (command: string) => /^(node bin\/run\.mjs|sh bin\/start\.sh) /.test(command);

/** What is wrong with an `npm run …`/`npm start`/`npm test` line; [] when nothing. */
export async function checkNpm(argv: string[], scripts: Record<string, string>, cli: NpmUsage): Promise<string[]> {
  let rest = argv.slice(1);
  let script = argv[0] === 'run' ? undefined : argv[0];
  while (!script && rest.length) {
    const w = rest.shift()!;
    if (!w.startsWith('-')) script = w; // npm's own flags (--silent) come before the script
  }
  if (!script) return ['npm run without a script'];
  if (!(script in scripts)) return [`no npm script "${script}" in package.json`];
  if (!rest.length) return [];
  if (rest[0] !== '--') return [`arguments for "${script}" must follow "--" (npm would take ${rest[0]} itself)`];
  const args = rest.slice(1);
  if (!checkedByHelp(scripts[script])) return [];
  // Walk the subcommands, then check the options and arguments of the deepest one (global options allowed too).
  const commandPath: string[] = [];
  const inherited: OptionSpec[] = [];
  const remaining: string[] = [];
  let usage = await cli.usage(script, []);
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    if (w.startsWith('-')) {
      remaining.push(w);
      const spec = usage.options.find((o) => `--${o.name}` === w.split('=')[0] || `-${o.alias}` === w);
      if (spec?.takesValue && !w.includes('=') && i + 1 < args.length) remaining.push(args[++i]);
    } else if (usage.commands.length && !isRest(w)) {
      if (!usage.commands.includes(w)) return [`${script}: unknown command "${[...commandPath, w].join(' ')}" (${[script, ...commandPath].join(' ')} --help lists: ${usage.commands.join(', ')})`];
      commandPath.push(w);
      inherited.push(...usage.options);
      usage = await cli.usage(script, commandPath);
    } else remaining.push(w);
  }
  const parsed = parseArgs(remaining, [...usage.options, ...inherited, { name: 'help', alias: 'h', takesValue: false, negatable: false }]);
  const errors = parsed.errors.map((e) => `${script}${commandPath.length ? ' ' + commandPath.join(' ') : ''}: ${e}`);
  const required = usage.positionals.filter((p) => p.required).length;
  const max = usage.positionals.some((p) => p.variadic) ? Infinity : usage.positionals.length;
  const given = parsed.positionals.filter((p) => !isRest(p));
  if (!args.some(isRest) && given.length < required) errors.push(`${script} ${commandPath.join(' ')}: needs ${usage.positionals.map((p) => p.name).join(' ')}`);
  if (given.length > max) errors.push(`${script} ${commandPath.join(' ')}: too many arguments: ${given.join(' ')}`);
  return errors;
}
