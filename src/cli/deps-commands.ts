import { writeFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { dependencyReport } from '../dependency-report.js';
import { DependencyCycle, DependencyError, InvalidInput } from '../errors.js';
import { renderGraph, type GraphFormat } from '../graph.js';
import type { ExtensionManager } from '../manager.js';
import { parseTargetRef, Targets } from '../targets.js';
import { formatTable, printResult, type OutputFormat } from './output.js';

export interface DepsArgs {
  type: string;
  name: string;
  version?: string;
  target?: string;
}

function request(args: DepsArgs) {
  return { type: args.type, name: args.name, ...(args.version ? { version: args.version } : {}), ...(args.target ? { target: parseTargetRef(args.target) } : {}) };
}

/**
 * `prvng deps check`: the resolved set with a status word per dependency. A missing or
 * conflicting dependency or a cycle exits 2 (with the report in the JSON error).
 */
export async function depsCheckCommand(manager: ExtensionManager, config: Config, args: DepsArgs, output: OutputFormat): Promise<void> {
  const { report, statuses } = await dependencyReport(manager, new Targets(manager, config.orchestrator.targets.targets_dir), request(args));
  const data = { root: report.root, levels: report.levels, dependencies: statuses, cycle: report.cycle };
  if (report.cycle) throw new DependencyCycle(`dependency cycle: ${report.cycle.join(' -> ')}`, data);
  if (report.problems.length) throw new DependencyError(report.problems.map((p) => p.message).join('; '), data);
  printResult(output, data, () =>
    [
      `${report.root.type.toLowerCase()} ${report.root.name}@${report.root.version}: ${statuses.length} dependencies in ${report.levels.length} levels`,
      formatTable(
        ['NAME', 'VERSION', 'STATUS', 'INSTALLED', 'REQUIRED BY'],
        statuses.map((s) => [s.name, s.version, s.status, s.installed, s.constraints.map((c) => `${c.range === '*' ? '' : `${c.range} `}${c.required_by}`).join('; ')]),
      ),
    ].join('\n'),
  );
}

const FORMATS: GraphFormat[] = ['dot', 'mermaid', 'svg'];

/** `prvng graph`: DOT, Mermaid or SVG on stdout (or `--out FILE`); a broken resolution is drawn with its problems in red. */
export async function graphCommand(manager: ExtensionManager, config: Config, args: DepsArgs & { format: string; out?: string }): Promise<void> {
  if (!FORMATS.includes(args.format as GraphFormat)) throw new InvalidInput(`--format must be one of ${FORMATS.join(', ')}`, { field: 'format' });
  const { report, statuses } = await dependencyReport(manager, new Targets(manager, config.orchestrator.targets.targets_dir), request(args));
  const picture = await renderGraph(report, args.format as GraphFormat, { statuses });
  if (args.out) writeFileSync(args.out, picture);
  else process.stdout.write(picture);
}
