import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (holding config.defaults.toml, extensions/ and nu/), from src/ or dist/src/. */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'config.defaults.toml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`config.defaults.toml not found above ${from}`);
    dir = parent;
  }
  return dir;
}
