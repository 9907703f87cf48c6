/**
 * The one command-line style of every entry point: commander, `-h/--help` and `-V/--version` everywhere (both
 * print and exit 0 without doing any work), and a usage error is one line on stderr with exit code 2.
 * Entry scripts build their program with `cliProgram()` and run it with `runProgram()`; actions load what they
 * need with `await import()`, so `--help` costs commander and nothing else.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';

/** Exit code of a usage error (bad flag, missing argument, conflicting options). */
export const USAGE_EXIT = 2;

let cachedVersion: string | undefined;
/** The package version (package.json), read once. */
export function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

export interface ProgramIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** A commander program in the house style; subcommands added with `.command()` inherit it. */
export function cliProgram(name: string, description: string, io: ProgramIo = {}): Command {
  return new Command(name)
    .description(description)
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: io.out ?? ((s) => process.stdout.write(s)),
      writeErr: io.err ?? ((s) => process.stderr.write(s)),
    });
}

/** Usage problem found after parsing (options that go together, a value out of range): one line, exit 2. */
export function usageError(program: Command, message: string): never {
  return program.error(`error: ${message}`, { exitCode: USAGE_EXIT, code: 'ziggie.usage' });
}

/**
 * Parse and run; returns the exit code: what the action returned (a number) or `process.exitCode`, 0 after
 * --help/--version, 2 for a usage error (commander already printed its one line). Other errors propagate.
 */
export async function runProgram(program: Command, argv: string[], from: 'node' | 'user' = 'node'): Promise<number> {
  try {
    await program.parseAsync(argv, { from });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : USAGE_EXIT;
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** For entry scripts: end the process with `code` once output is flushed (open sockets must not keep it alive). */
export async function exitWith(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));
  process.exit(code);
}

/**
 * For a script's command-line module (`scripts/lib/*-args.ts`): parse argv now and end the process on --help,
 * --version (exit 0) or a usage error (exit 2, one line). Imported before zx, it answers --help before zx loads.
 */
export function parseOrExit<T>(program: Command, argv: string[] = process.argv, validate?: (opts: T) => string | undefined): T {
  try {
    program.parse(argv, { from: 'node' });
    const problem = validate?.(program.opts<T & Record<string, unknown>>());
    if (problem) usageError(program, problem);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    process.exit(e.exitCode === 0 ? 0 : USAGE_EXIT);
  }
  return program.opts<T & Record<string, unknown>>();
}
