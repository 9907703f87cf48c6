/** Errors the CLI turns into one line and an exit code (2 = bad input, as for every CLI in this repo). */
export class ProvisionInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionInputError';
  }
}

/** A host could not be reached or authenticated (Ansible's "unreachable"). */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** The SSH connection dropped while a command was running: its outcome on the host is unknown. */
export class ConnectionLostError extends UnreachableError {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionLostError';
  }
}

/** A host key was unknown or did not match. Never retried. */
export class HostKeyError extends UnreachableError {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyError';
  }
}

/** sudo -n refused (needs a password or a tty). */
export class BecomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BecomeError';
  }
}

/** A remote command exited non-zero where that is a failure. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
