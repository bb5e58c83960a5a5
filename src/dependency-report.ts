import { dependencyStatuses, type DependencyStatusRow } from './dependency-status.js';
import { lockedVersions, readLock } from './lock.js';
import type { ExtensionManager } from './manager.js';
import { discoveredSource, inspectDependencies, type DependencyReport } from './resolver.js';
import type { TargetRef, Targets } from './targets.js';
import type { ExtensionType } from './types.js';

export interface DependencyReportRequest {
  type: ExtensionType | string;
  name: string;
  version?: string;
  /** Compare with what this target has installed (and honour its lock). */
  target?: TargetRef;
}

/**
 * What `prvng deps check` and the graph show: the full resolution (problems reported,
 * not thrown) and a status word per dependency, against the library and, given a
 * target, against its receipts and lock.
 */
export async function dependencyReport(
  manager: ExtensionManager,
  targets: Targets,
  request: DependencyReportRequest,
): Promise<{ report: DependencyReport; statuses: DependencyStatusRow[] }> {
  const target = request.target ? await targets.resolve(request.target) : undefined;
  const receipts = target ? await targets.receipts(target) : undefined;
  const locked = target ? lockedVersions(await readLock(target), receipts) : {};
  // One discovery call per type instead of a load per version tried: a failing search may try many.
  const report = await inspectDependencies(await discoveredSource(manager, request.type), request, { locked });
  return { report, statuses: dependencyStatuses(report, manager, receipts) };
}
