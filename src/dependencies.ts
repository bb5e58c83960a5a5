import semver from 'semver';
import { parseDependency, type DependencySpec } from './manifest.js';
import type { Receipt } from './targets.js';
import type { ExtensionMetadata } from './types.js';

export interface DependencyStatus extends DependencySpec {
  required_by: string;
  /** The version installed on the target, if any. */
  installed: string | null;
  status: 'installed' | 'missing' | 'wrong-version';
}

export interface DependencyCheck {
  satisfied: DependencyStatus[];
  missing: DependencyStatus[];
}

/** Direct dependencies of an extension against what a target has installed. */
export function checkDependencies(metadata: ExtensionMetadata, installed: readonly Receipt[]): DependencyCheck {
  const byName = new Map(installed.map((r) => [r.name, r]));
  const statuses = metadata.dependencies.map((raw): DependencyStatus => {
    const spec = parseDependency(raw)!; // manifests are validated on load
    const receipt = byName.get(spec.name);
    const required_by = `${metadata.name}@${metadata.version}`;
    if (!receipt) return { ...spec, required_by, installed: null, status: 'missing' };
    const fits = semver.satisfies(receipt.version, spec.range);
    return { ...spec, required_by, installed: receipt.version, status: fits ? 'installed' : 'wrong-version' };
  });
  return {
    satisfied: statuses.filter((s) => s.status === 'installed'),
    missing: statuses.filter((s) => s.status !== 'installed'),
  };
}

/** "etcd@>=3.5.0 <4.0.0 required by kubernetes@1.28.0 (installed: 3.4.27)". */
export function describeDependency(d: DependencyStatus): string {
  const wanted = d.range === '*' ? d.name : `${d.name}@${d.range}`;
  const have = d.installed ? `installed ${d.installed} does not satisfy it` : 'not installed';
  return `${wanted} required by ${d.required_by} (${have})`;
}
