/**
 * ziggie-infra provisioning library: Ansible-style idempotent SSH tasks with check/diff, handlers and parallel
 * hosts. See docs/provision.md.
 */
export { definePlaybook, block, type Playbook, type PlaybookDef, type TaskList } from './playbook';
export { main, runPlaybookCli, runParsed, parseCli, type CliOptions } from './cli';
export { runPlaybook, tagSelected, type RunOptions, type RunReport, type HostReport, type TaskReport } from './runner';
export { loadInventory, parseInventory, selectHosts, type Inventory, type InventoryHost, type SshSettings } from './inventory';
export { SshConnection, run, wrapCommand, type Remote, type ExecOptions, type ExecResult, type ConnectionOptions } from './connection';
export { secret, reveal, redact, isSecret, Secret } from './secret';
export { quote, sh, raw, ownerSpec, attrScript, atomicReplace } from './shell';
export { defineTask, run as runStep, write as writeStep, type Task, type TaskOptions, type TaskContext, type Plan, type PlanEnv, type Step, type When, type WhenContext, type HostView, type DiffItem } from './task';
export { defineFact, defineBatchFact, need, type Fact, type Need, type Needs, type FactValues, type Section } from './fact';
export { writeFileAtomic, readRemoteFile, type FileAttrs, type FileState } from './files';
export type { Facts } from './facts/host';
export { fileStat, fileContent, type FileType } from './facts/file';
export { passwd, group as groupEntry, userGroups, homeFile, type PasswdEntry, type GroupEntry } from './facts/account';
export { pkg, aptCache, aptCandidate, type PkgState, type AptCache } from './facts/package';
export { unit, type UnitState } from './facts/unit';
export { exitStatus, commandOutput } from './facts/command';
export { glob } from './facts/glob';
export { sysctlValue } from './facts/sysctl';
export { gitCheckout, remoteRef } from './facts/git';
export { composeContainers, composePlugin, dockerNetwork as dockerNetworkState } from './facts/docker';
export { ConsoleOutput, MemoryOutput, SilentOutput, type Output } from './output';
export { writeReport, exitCodeOf } from './report';
export { ProvisionInputError, UnreachableError, HostKeyError, BecomeError, CommandError, ConnectionLostError } from './errors';

export { file, directory, link, absent, touch } from './tasks/file';
export { copy } from './tasks/copy';
export { template, renderString } from './tasks/template';
export { lineInFile } from './tasks/lineinfile';
export { blockInFile } from './tasks/blockinfile';
export { apt } from './tasks/apt';
export { user, group } from './tasks/user';
export { authorizedKey } from './tasks/authorizedkey';
export { systemd } from './tasks/systemd';
export { timer, cron } from './tasks/timer';
export { sysctl } from './tasks/sysctl';
export { git } from './tasks/git';
export { venv } from './tasks/venv';
export { command, shell } from './tasks/command';
export { download } from './tasks/download';
export { compose, composePrune } from './tasks/compose';
export { dockerNetwork } from './tasks/docker-network';
