/**
 * The error kinds of DESIGN.md section 6. Each is a named class with a stable `kind`
 * (the `type` of the ApplicationFailure an activity raises) and `details` that a
 * program can read without parsing the message.
 */
export type ErrorKind =
  | 'ExtensionNotFound'
  | 'VersionNotFound'
  | 'InvalidMetadata'
  | 'DependencyError'
  | 'DependencyCycle'
  | 'LoadFailure'
  | 'ScriptFailure'
  | 'VerificationFailed'
  | 'ChecksumMismatch'
  | 'ProviderError'
  | 'InstallConflict'
  | 'LockDrift'
  | 'InvalidInput';

export abstract class ExtensionError extends Error {
  abstract readonly kind: ErrorKind;
  /** Whether retrying the same call can succeed (a crashed process can; a missing extension cannot). */
  readonly retryable: boolean = false;

  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): { kind: ErrorKind; message: string } & Record<string, unknown> {
    return { kind: this.kind, message: this.message, ...this.details };
  }
}

export class ExtensionNotFound extends ExtensionError {
  readonly kind = 'ExtensionNotFound';
}

export class VersionNotFound extends ExtensionError {
  readonly kind = 'VersionNotFound';
}

export class InvalidMetadata extends ExtensionError {
  readonly kind = 'InvalidMetadata';
}

export class DependencyError extends ExtensionError {
  readonly kind = 'DependencyError';
}

export class DependencyCycle extends ExtensionError {
  readonly kind = 'DependencyCycle';
}

export class ChecksumMismatch extends ExtensionError {
  readonly kind = 'ChecksumMismatch';
}

export class InvalidInput extends ExtensionError {
  readonly kind = 'InvalidInput';
}

export class VerificationFailed extends ExtensionError {
  readonly kind = 'VerificationFailed';
}

export class ProviderError extends ExtensionError {
  readonly kind = 'ProviderError';
}

/** An install of the same taskserv on the same target is running with another request. */
export class InstallConflict extends ExtensionError {
  readonly kind = 'InstallConflict';
}

/** `--frozen`, and resolving now would change what the target's lock file says. */
export class LockDrift extends ExtensionError {
  readonly kind = 'LockDrift';
}

/** Nushell could not load an extension (crash, timeout, no result). Retryable. */
export class LoadFailure extends ExtensionError {
  readonly kind = 'LoadFailure';
  override readonly retryable: boolean;
  constructor(message: string, details: Record<string, unknown> = {}, retryable = true) {
    super(message, details);
    this.retryable = retryable;
  }
}

/**
 * An extension's own script failed. A script that reported an error is not retried
 * (it would fail the same way); one that was killed or crashed may be.
 */
export class ScriptFailure extends ExtensionError {
  readonly kind = 'ScriptFailure';
  override readonly retryable: boolean;
  constructor(message: string, details: Record<string, unknown> = {}, retryable = false) {
    super(message, details);
    this.retryable = retryable;
  }
}
