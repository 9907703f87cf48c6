/**
 * Inventory: Ansible's YAML shape (all / children / hosts / vars, ansible_host, ansible_port, ansible_user,
 * ansible_ssh_private_key_file, ansible_become ...) plus a few keys of our own for host-key pinning.
 * Every error is one line: "<file>: <path.to.value>: <what is wrong>".
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ProvisionInputError } from './errors';
import { Secret, registerSecret } from './secret';

export interface SshSettings {
  host: string;
  port: number;
  user: string;
  /** Absolute path of a private key; undefined = use the agent. */
  privateKeyFile?: string;
  /** SSH agent socket (defaults to $SSH_AUTH_SOCK when no key file is set). */
  agent?: string;
  /** known_hosts file to check (and, with --trust-new-host-key, to append to). Default ~/.ssh/known_hosts. */
  knownHostsFile: string;
  /** Pinned host key, "SHA256:<base64>" as ssh-keygen -l prints it. When set, known_hosts is not consulted. */
  hostKeyFingerprint?: string;
  become: boolean;
  becomeUser: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface InventoryHost {
  name: string;
  /** Every group the host is in, ancestors included ("all" always). */
  groups: string[];
  vars: Record<string, unknown>;
  ssh: SshSettings;
}

export interface Inventory {
  file: string;
  hosts: InventoryHost[];
  /** group name -> host names (transitively). */
  groups: Record<string, string[]>;
}

/** An inventory has no use for more aliases than this (the yaml library's cap against "billion laughs"). */
export const MAX_ALIAS_COUNT = 100;

const GROUP_KEYS = new Set(['hosts', 'vars', 'children']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Secret);

function fail(file: string, path: string, msg: string): never {
  throw new ProvisionInputError(`${file}: ${path ? path + ': ' : ''}${msg}`);
}

function show(v: unknown): string {
  if (v instanceof Secret) return 'a secret';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

let yamlTags: unknown[] | undefined;
function customTags(): unknown[] {
  if (yamlTags) return yamlTags;
  const envOf = (name: string): string => {
    const v = process.env[name.trim()];
    if (v === undefined) throw new Error(`environment variable ${name.trim()} is not set`);
    return v;
  };
  yamlTags = [
    { tag: '!secret', resolve: (s: string) => new Secret(s) },
    { tag: '!env', resolve: (s: string) => envOf(s) },
    { tag: '!secret_env', resolve: (s: string) => new Secret(envOf(s)) },
  ];
  return yamlTags;
}

/** Parse inventory text. `file` names the source in errors; relative key/known_hosts paths resolve from it. */
export function parseInventory(text: string, file: string): Inventory {
  // yaml is loaded lazily: it is only needed here, and costs ~15 ms to load.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const YAML = require('yaml') as typeof import('yaml');
  let doc: unknown;
  try {
    const d = YAML.parseDocument(text, { customTags: customTags() as never, prettyErrors: true, uniqueKeys: true });
    if (d.errors.length) {
      const e = d.errors[0]!;
      const pos = e.linePos?.[0];
      fail(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}`, '', `YAML syntax error: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    doc = d.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ProvisionInputError) throw e;
    // an alias bomb is a ReferenceError from toJS; any other library error is one line too
    if (e instanceof ReferenceError && /alias/i.test(e.message)) fail(file, '', `more than ${MAX_ALIAS_COUNT} alias expansions (a YAML alias bomb?): refused`);
    fail(file, '', (e as Error).message?.split('\n')[0] ?? String(e));
  }
  if (doc === null || doc === undefined) fail(file, '', 'is empty: expected a mapping with an "all" group');
  if (!isObj(doc)) fail(file, '', `expected a mapping of groups (all: {hosts: ..., children: ...}), got ${show(doc)}`);

  const groupVars = new Map<string, Obj>();
  const groupParents = new Map<string, Set<string>>();
  const groupHosts = new Map<string, Set<string>>();
  const hostVars = new Map<string, Obj>();
  const hostOrder: string[] = [];

  const ensureGroup = (g: string): void => {
    if (!groupVars.has(g)) {
      groupVars.set(g, {});
      groupParents.set(g, new Set());
      groupHosts.set(g, new Set());
    }
  };
  const checkVars = (vars: unknown, path: string): Obj => {
    if (vars === null || vars === undefined) return {};
    if (!isObj(vars)) fail(file, path, `expected a mapping of variables, got ${show(vars)}`);
    for (const [k, v] of Object.entries(vars)) if (v instanceof Secret) registerSecret(v.reveal()), void k;
    return vars;
  };

  const walkGroup = (name: string, body: unknown, path: string, parent: string | undefined): void => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) fail(file, path, `invalid group name ${JSON.stringify(name)} (letters, digits, _ . - only)`);
    ensureGroup(name);
    if (parent) groupParents.get(name)!.add(parent);
    if (body === null || body === undefined) return;
    if (!isObj(body)) fail(file, path, `expected a group mapping with hosts/vars/children, got ${show(body)}`);
    for (const k of Object.keys(body)) {
      if (!GROUP_KEYS.has(k)) fail(file, `${path}.${k}`, `unknown key (a group has only hosts, vars and children)`);
    }
    Object.assign(groupVars.get(name)!, checkVars(body.vars, `${path}.vars`));
    if (body.hosts !== undefined && body.hosts !== null) {
      if (!isObj(body.hosts)) fail(file, `${path}.hosts`, `expected a mapping of host names to their vars, got ${show(body.hosts)}`);
      for (const [h, hv] of Object.entries(body.hosts)) {
        const hp = `${path}.hosts.${h}`;
        if (!/^[A-Za-z0-9_.:\[\]-]+$/.test(h)) fail(file, hp, `invalid host name ${JSON.stringify(h)}`);
        if (!hostVars.has(h)) {
          hostVars.set(h, {});
          hostOrder.push(h);
        }
        Object.assign(hostVars.get(h)!, checkVars(hv, hp));
        groupHosts.get(name)!.add(h);
      }
    }
    if (body.children !== undefined && body.children !== null) {
      if (!isObj(body.children)) fail(file, `${path}.children`, `expected a mapping of child groups, got ${show(body.children)}`);
      for (const [c, cb] of Object.entries(body.children)) {
        if (c === 'all') fail(file, `${path}.children.all`, '"all" cannot be a child group');
        walkGroup(c, cb, `${path}.children.${c}`, name);
      }
    }
  };
  for (const [g, body] of Object.entries(doc)) walkGroup(g, body, g, g === 'all' ? undefined : 'all');
  ensureGroup('all');

  // cycles and depth (Ansible: vars of deeper groups win; same depth: alphabetical, later wins)
  const depthCache = new Map<string, number>();
  const depth = (g: string, seen: string[] = []): number => {
    if (seen.includes(g)) fail(file, g, `group cycle: ${[...seen, g].join(' -> ')}`);
    const c = depthCache.get(g);
    if (c !== undefined) return c;
    let d = 0;
    for (const p of groupParents.get(g) ?? []) d = Math.max(d, depth(p, [...seen, g]) + 1);
    depthCache.set(g, d);
    return d;
  };
  const ancestors = (g: string, acc: Set<string>): Set<string> => {
    if (acc.has(g)) return acc;
    acc.add(g);
    for (const p of groupParents.get(g) ?? []) ancestors(p, acc);
    return acc;
  };
  for (const g of groupVars.keys()) depth(g);

  const hosts: InventoryHost[] = [];
  const groups: Record<string, string[]> = {};
  for (const g of groupVars.keys()) groups[g] = [];
  for (const h of hostOrder) {
    const gs = new Set<string>();
    for (const [g, members] of groupHosts) if (members.has(h)) ancestors(g, gs);
    gs.add('all');
    // same depth: by name in code-unit order, as Ansible sorts them (Python's sort)
    const ordered = [...gs].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    const vars: Obj = {};
    for (const g of ordered) Object.assign(vars, groupVars.get(g));
    Object.assign(vars, hostVars.get(h));
    for (const g of ordered) groups[g]!.push(h);
    hosts.push({ name: h, groups: ordered, vars, ssh: sshSettings(h, vars, file, hostPathOf(h, doc as Obj)) });
  }
  return { file, hosts, groups };
}

/** Where a host is first written in the file, for error messages about its (possibly inherited) vars. */
function hostPathOf(h: string, doc: Obj): string {
  const find = (name: string, body: unknown, path: string): string | undefined => {
    if (!isObj(body)) return undefined;
    if (isObj(body.hosts) && h in body.hosts) return `${path}.hosts.${h}`;
    if (isObj(body.children))
      for (const [c, cb] of Object.entries(body.children)) {
        const r = find(c, cb, `${path}.children.${c}`);
        if (r) return r;
      }
    return undefined;
  };
  for (const [g, body] of Object.entries(doc)) {
    const r = find(g, body, g);
    if (r) return r;
  }
  return h;
}

function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return homedir() + p.slice(1);
  return isAbsolute(p) ? p : resolve(base, p);
}

const TRUE = new Set([true, 'true', 'yes', 'on', 'True', 'Yes', 'TRUE', 'YES', 1]);
const FALSE = new Set([false, 'false', 'no', 'off', 'False', 'No', 'FALSE', 'NO', 0]);

function sshSettings(name: string, vars: Obj, file: string, path: string): SshSettings {
  const base = file.startsWith('<') ? process.cwd() : dirname(resolve(file));
  const pick = (...keys: string[]): [string, unknown] | undefined => {
    for (const k of keys) if (vars[k] !== undefined && vars[k] !== null) return [k, vars[k]];
    return undefined;
  };
  const str = (...keys: string[]): string | undefined => {
    const p = pick(...keys);
    if (!p) return undefined;
    if (typeof p[1] === 'number') return String(p[1]);
    if (typeof p[1] !== 'string' || p[1] === '') fail(file, `${path}.${p[0]}`, `expected a non-empty string, got ${show(p[1])}`);
    return p[1];
  };
  const int = (lo: number, hi: number, what: string, ...keys: string[]): number | undefined => {
    const p = pick(...keys);
    if (!p) return undefined;
    const n = typeof p[1] === 'string' && /^\d+$/.test(p[1]) ? Number(p[1]) : p[1];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi)
      fail(file, `${path}.${p[0]}`, `expected ${what}, got ${show(p[1])}`);
    return n;
  };
  const bool = (...keys: string[]): boolean | undefined => {
    const p = pick(...keys);
    if (!p) return undefined;
    if (TRUE.has(p[1] as never)) return true;
    if (FALSE.has(p[1] as never)) return false;
    fail(file, `${path}.${p[0]}`, `expected true or false, got ${show(p[1])}`);
  };

  if (pick('ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'))
    fail(file, `${path}.${pick('ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password')![0]}`, 'password authentication is not supported: use a key file or an SSH agent');
  if (pick('ansible_become_password', 'ansible_become_pass'))
    fail(file, `${path}.${pick('ansible_become_password', 'ansible_become_pass')![0]}`, 'become passwords are not supported: become uses "sudo -n" (NOPASSWD)');
  const method = str('ansible_become_method');
  if (method && method !== 'sudo') fail(file, `${path}.ansible_become_method`, `only "sudo" is supported, got ${JSON.stringify(method)}`);
  const conn = str('ansible_connection');
  if (conn && conn !== 'ssh' && conn !== 'paramiko' && conn !== 'smart')
    fail(file, `${path}.ansible_connection`, `only ssh connections are supported, got ${JSON.stringify(conn)}`);

  const host = str('ansible_host', 'ansible_ssh_host') ?? name;
  const port = int(1, 65535, 'a port number 1-65535', 'ansible_port', 'ansible_ssh_port') ?? 22;
  const user = str('ansible_user', 'ansible_ssh_user', 'ansible_remote_user') ?? 'root';
  const key = str('ansible_ssh_private_key_file', 'ansible_private_key_file');
  const agentP = pick('ssh_agent');
  let agent: string | undefined;
  if (agentP) {
    if (agentP[1] === false || agentP[1] === 'false') agent = undefined;
    else if (agentP[1] === true || agentP[1] === 'true') {
      agent = process.env.SSH_AUTH_SOCK;
      if (!agent) fail(file, `${path}.ssh_agent`, 'is true but SSH_AUTH_SOCK is not set');
    } else if (typeof agentP[1] === 'string') agent = agentP[1];
    else fail(file, `${path}.ssh_agent`, `expected true, false or a socket path, got ${show(agentP[1])}`);
  } else if (!key) agent = process.env.SSH_AUTH_SOCK;

  // known_hosts: our key, or -o UserKnownHostsFile=... inside Ansible's ssh args.
  let knownHosts = str('ssh_known_hosts_file');
  if (!knownHosts) {
    for (const k of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
      const v = vars[k];
      const m = typeof v === 'string' ? /UserKnownHostsFile[= ]+(\S+)/.exec(v) : null;
      if (m && m[1] !== '/dev/null') knownHosts = m[1];
    }
  }
  const fp = str('ssh_host_key_fingerprint');
  if (fp && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(fp))
    fail(file, `${path}.ssh_host_key_fingerprint`, `expected "SHA256:<43 base64 chars>" as ssh-keygen -lf prints it, got ${JSON.stringify(fp)}`);
  if (!key && !agent)
    fail(file, path, 'no SSH credentials: set ansible_ssh_private_key_file, or run with an SSH agent (SSH_AUTH_SOCK)');

  return {
    host,
    port,
    user,
    privateKeyFile: key ? expandPath(key, base) : undefined,
    agent,
    knownHostsFile: expandPath(knownHosts ?? '~/.ssh/known_hosts', base),
    hostKeyFingerprint: fp?.replace(/=$/, ''),
    become: bool('ansible_become', 'become') ?? false,
    becomeUser: str('ansible_become_user') ?? 'root',
    connectTimeoutMs: (int(1, 3600, 'seconds (1-3600)', 'ansible_ssh_timeout', 'ssh_connect_timeout') ?? 10) * 1000,
    commandTimeoutMs: (int(1, 86400, 'seconds (1-86400)', 'ssh_command_timeout') ?? 600) * 1000,
  };
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProvisionInputError(`${file}: cannot read inventory (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
  return parseInventory(text, file);
}

/**
 * Ansible-style host patterns: comma or colon separated names, group names and globs (web*), "!x" to exclude,
 * "&g" to intersect. Unknown plain names are an error (a typo should not silently select nothing).
 */
export function selectHosts(inv: Inventory, pattern: string | undefined, base?: string[]): InventoryHost[] {
  const universe = base ? inv.hosts.filter((h) => base.includes(h.name)) : inv.hosts;
  if (!pattern || pattern === 'all' || pattern === '*') return universe;
  const parts = pattern.split(/[,:]/).map((s) => s.trim()).filter(Boolean);
  const match = (p: string): Set<string> => {
    const out = new Set<string>();
    if (p.includes('*') || p.includes('?')) {
      const re = new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      for (const h of inv.hosts) if (re.test(h.name)) out.add(h.name);
      for (const [g, hs] of Object.entries(inv.groups)) if (re.test(g)) hs.forEach((x) => out.add(x));
      return out;
    }
    if (inv.groups[p]) inv.groups[p]!.forEach((x) => out.add(x));
    else if (inv.hosts.some((h) => h.name === p)) out.add(p);
    else throw new ProvisionInputError(`--limit: no host or group named ${JSON.stringify(p)} in ${inv.file}`);
    return out;
  };
  let selected: Set<string> | undefined;
  const excl = new Set<string>();
  const inter: Set<string>[] = [];
  for (const p of parts) {
    if (p.startsWith('!')) match(p.slice(1)).forEach((x) => excl.add(x));
    else if (p.startsWith('&')) inter.push(match(p.slice(1)));
    else {
      selected ??= new Set();
      match(p).forEach((x) => selected!.add(x));
    }
  }
  selected ??= new Set(inv.hosts.map((h) => h.name));
  return universe.filter((h) => selected!.has(h.name) && !excl.has(h.name) && inter.every((s) => s.has(h.name)));
}
