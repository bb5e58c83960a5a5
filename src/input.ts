import semver from 'semver';
import { InvalidInput } from './errors.js';
import { EXTENSION_TYPES, type ExtensionType } from './types.js';

/**
 * Validation of everything a caller hands us, done before any file or process is
 * touched: a name like `../../etc` or one with a newline never reaches the
 * filesystem or Nushell.
 */

/** Extension, provider and server names (DESIGN.md section 3). */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_CONSTRAINT = 256;

export function parseExtensionType(value: unknown): ExtensionType {
  if (typeof value === 'string') {
    const found = EXTENSION_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
    if (found) return found;
  }
  throw new InvalidInput(`invalid extension type ${describe(value)}: expected provider, taskserv or cluster`, {
    field: 'type',
  });
}

export function parseName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME.test(value) || value.includes('..')) {
    throw new InvalidInput(
      `invalid ${field} ${describe(value)}: expected lower-case letters, digits, '.', '_' or '-' (1-64 characters, starting with a letter or digit)`,
      { field },
    );
  }
  return value;
}

/** An exact version or a semver range; `undefined` means latest. */
export function parseVersionRequest(value: unknown, field = 'version'): string | undefined {
  if (value === undefined || value === null || value === '' || value === 'latest') return undefined;
  if (typeof value === 'string' && value.length <= MAX_CONSTRAINT && !/[\n\r\0]/.test(value)) {
    if (semver.valid(value) || semver.validRange(value)) return value.trim();
  }
  throw new InvalidInput(`invalid ${field} ${describe(value)}: expected a semver version or range`, { field });
}

/** Server names follow the extension-name rule: they become folder names on the target. */
export function parseServer(value: unknown): string {
  return parseName(value, 'server');
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value})`;
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(shown);
}
