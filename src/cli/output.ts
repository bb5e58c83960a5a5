import { ExtensionError } from '../errors.js';

export type OutputFormat = 'json' | 'table';

/** `{"success": true, "data": ...}` as JSON, or the table a person reads. */
export function printResult(format: OutputFormat, data: unknown, table: () => string): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify({ success: true, data }, null, 2)}\n` : `${table()}\n`);
}

/** Columns padded to their widest cell. */
export function formatTable(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/**
 * Exit 2 for a user error (a named extension error) with its JSON on stdout,
 * 1 for anything else (DESIGN.md section 6).
 */
export function exitWithError(err: unknown, format: OutputFormat): never {
  const userError = isUserError(err);
  const error =
    err instanceof ExtensionError
      ? err.toJSON()
      : { kind: failureType(err) ?? 'Internal', message: err instanceof Error ? err.message : String(err) };
  if (format === 'json') process.stdout.write(`${JSON.stringify({ success: false, error }, null, 2)}\n`);
  else process.stderr.write(`error (${error.kind}): ${error.message}\n`);
  process.exit(userError ? 2 : 1);
}

/** Errors the user can fix in what they asked for or in their library; the rest exit 1. */
const USER_KINDS = new Set(['ExtensionNotFound', 'VersionNotFound', 'InvalidMetadata', 'DependencyError', 'DependencyCycle', 'InvalidInput', 'ChecksumMismatch', 'ProviderError', 'InstallConflict', 'LockDrift']);

/** The error kind: of a named error, or of the first cause of a workflow failure that has one. */
function failureType(err: unknown): string | undefined {
  if (err instanceof ExtensionError) return err.kind;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

function isUserError(err: unknown): boolean {
  const type = failureType(err);
  return type !== undefined && USER_KINDS.has(type);
}
