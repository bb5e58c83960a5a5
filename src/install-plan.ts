import { assertChecksums, assertFrozen, lockedVersions, readLock, writeLock, type LockedPackage } from './lock.js';
import type { ExtensionManager } from './manager.js';
import { resolveDependencies, type Constraint } from './resolver.js';
import type { Target, Targets } from './targets.js';
import type { ExtensionType } from './types.js';

export interface PlanRequest {
  type: ExtensionType | string;
  name: string;
  version?: string;
  /** Ignore the lock and take the highest versions that satisfy the constraints. */
  upgrade?: boolean;
  /** Fail when resolving would change the lock. */
  frozen?: boolean;
}

export interface PlannedPackage {
  name: string;
  version: string;
  content_hash: string;
  constraints: Constraint[];
  dependencies: string[];
}

/** What a cluster (or taskserv) install will do on a target, level by level. */
export interface InstallPlan {
  root: { type: ExtensionType; name: string; version: string };
  packages: PlannedPackage[];
  /** Level 0 first; the names of one level can install in parallel. */
  levels: string[][];
}

/**
 * Resolve what to install against the target's lock: a locked selection wins over
 * "latest" unless `upgrade`; `frozen` refuses any change to the lock; a locked
 * extension whose files changed is a ChecksumMismatch.
 */
export async function planInstall(manager: ExtensionManager, targets: Targets, target: Target, request: PlanRequest): Promise<InstallPlan> {
  const lock = await readLock(target);
  const locked = lockedVersions(lock, await targets.receipts(target));
  const resolution = await resolveDependencies(manager, request, request.upgrade ? { upgrade: true } : { locked });
  if (request.frozen) assertFrozen(lock, resolution);
  const packages = await Promise.all(
    resolution.packages.map(async (p) => ({ ...p, content_hash: (await manager.loadExtension('Taskserv', p.name, p.version)).content_hash })),
  );
  if (!request.upgrade) assertChecksums(lock, Object.fromEntries(packages.map((p) => [p.name, p])));
  const { type, name, version } = resolution.root;
  return { root: { type, name, version }, packages, levels: resolution.levels };
}

/** Record installed packages of a plan in the target's lock. */
export function lockInstalled(target: Target, plan: InstallPlan, installed: string[], workflowId: string | null) {
  const entries: Record<string, LockedPackage> = {};
  for (const p of plan.packages) {
    if (installed.includes(p.name)) entries[p.name] = { version: p.version, content_hash: p.content_hash, constraints: p.constraints, installed_by: workflowId };
  }
  return writeLock(target, entries);
}
