import semver from 'semver';
import { ExtensionNotFound } from './errors.js';
import type { Constraint, DependencyReport, Resolution } from './resolver.js';
import type { Receipt } from './targets.js';
import type { ExtensionType } from './types.js';
import { sortVersions } from './versions.js';

/**
 * Status words per dependency (Helm's ok / missing / wrong version, Crossplane's
 * installed): against the library alone, or against a target's receipts too.
 */
export type DependencyStatusWord = 'ok' | 'installed' | 'not-installed' | 'missing' | 'wrong-version';

export interface DependencyStatusRow {
  name: string;
  status: DependencyStatusWord;
  /** The version the resolution selected; null when none could be. */
  version: string | null;
  /** The version installed on the target (with receipts), else null. */
  installed: string | null;
  constraints: Constraint[];
  /** Versions in the library, highest first. */
  available: string[];
  /** One sentence a person can act on. */
  detail: string;
}

/** The library's versions: `ExtensionLibrary` (`versionsOf`), `ExtensionManager` or `MemorySource` (`availableVersions`). */
export type VersionCatalog =
  | { versionsOf(type: ExtensionType, name: string): readonly string[] }
  | { availableVersions(type: ExtensionType, name: string): readonly string[] };

/**
 * A status word for each dependency of a resolution (a `DependencyReport` also carries
 * the ones that failed). Without receipts: `ok`, `missing`, `wrong-version`. With the
 * target's receipts: `installed` (at a version satisfying every constraint), `not-installed`,
 * `wrong-version` (installed at a version that does not satisfy them), `missing`.
 * Pure: reads the catalog's version lists, nothing else. Sorted by name.
 */
export function dependencyStatuses(
  resolution: Resolution | DependencyReport,
  library: VersionCatalog,
  receipts?: readonly Receipt[],
): DependencyStatusRow[] {
  const byName = new Map((receipts ?? []).map((r) => [r.name, r]));
  const rows: DependencyStatusRow[] = [];
  for (const p of resolution.packages) {
    const available = versionsIn(library, p.name);
    const row = { name: p.name, version: p.version, constraints: p.constraints, available };
    if (!receipts) {
      rows.push({ ...row, status: 'ok', installed: null, detail: `${p.name}@${p.version} ${requiredBy(p.constraints)}` });
      continue;
    }
    const receipt = byName.get(p.name);
    if (!receipt) {
      rows.push({ ...row, status: 'not-installed', installed: null, detail: `not installed; ${p.name}@${p.version} would be` });
      continue;
    }
    const rejects = p.constraints.filter((c) => !semver.satisfies(receipt.version, c.range, { includePrerelease: true }));
    rows.push(
      rejects.length
        ? {
            ...row,
            status: 'wrong-version',
            installed: receipt.version,
            detail: `existing ${p.name}@${receipt.version} is incompatible with ${rejects.map((c) => `${c.range} required by ${c.required_by}`).join(' and ')}`,
          }
        : { ...row, status: 'installed', installed: receipt.version, detail: `${p.name}@${receipt.version} installed` },
    );
  }
  for (const problem of 'problems' in resolution ? resolution.problems : []) {
    const available = versionsIn(library, problem.name);
    rows.push({
      name: problem.name,
      status: available.length === 0 ? 'missing' : 'wrong-version',
      version: null,
      installed: byName.get(problem.name)?.version ?? null,
      constraints: problem.constraints,
      available,
      detail: problem.message,
    });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function requiredBy(constraints: readonly Constraint[]): string {
  return `required by ${constraints.map((c) => (c.range === '*' ? c.required_by : `${c.required_by} (${c.range})`)).join(', ')}`;
}

function versionsIn(library: VersionCatalog, name: string): string[] {
  try {
    const list = 'versionsOf' in library ? library.versionsOf('Taskserv', name) : library.availableVersions('Taskserv', name);
    return sortVersions(list);
  } catch (err) {
    if (err instanceof ExtensionNotFound) return [];
    throw err;
  }
}
