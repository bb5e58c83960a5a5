import { MemorySource, resolveDependencies, type SourceEntry } from '../src/resolver.js';
import { median, round, timed } from './stats.js';

const RUNS = 5;
const WARM_UP = 3;

/**
 * A generated library: `ts-000` .. `ts-<n-1>`, three versions each, every taskserv depending
 * on the next three with three different ranges (`^1.0.0`, `>=1.1.0 <2.0.0`, `1.x || 2.x`),
 * so each name collects up to three constraints whose intersection (1.1.0) is not its
 * latest version (2.0.0). Acyclic: dependencies only point to higher numbers.
 */
export function generatedLibrary(count = 500, fanOut = 3): MemorySource {
  const entries: SourceEntry[] = [];
  const ranges = ['^1.0.0', '>=1.1.0 <2.0.0', '1.x || 2.x'];
  const name = (i: number) => `ts-${String(i).padStart(3, '0')}`;
  for (let i = 0; i < count; i++) {
    const dependencies: string[] = [];
    for (let k = 1; k <= fanOut && i + k < count; k++) dependencies.push(`${name(i + k)}@${ranges[(k - 1) % ranges.length]}`);
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) entries.push({ name: name(i), version, dependencies });
  }
  return new MemorySource(entries);
}

/**
 * Resolve `ts-000`, which reaches all 500 taskservs (3 dependencies each): median of 5 runs,
 * each on a fresh source (nothing cached but parsed semver strings), after three warm-up runs
 * that are not counted (the first resolutions in a process also pay for JIT compilation).
 */
export async function resolve500(): Promise<{ resolve_500_ms: number }> {
  const samples: number[] = [];
  for (let run = -WARM_UP; run < RUNS; run++) {
    const source = generatedLibrary(500, 3);
    const [ms, resolution] = await timed(() => resolveDependencies(source, { type: 'taskserv', name: 'ts-000' }));
    if (resolution.packages.length !== 499 || resolution.packages.some((p) => p.version !== '1.1.0')) {
      throw new Error('resolve500: unexpected resolution');
    }
    if (run >= 0) samples.push(ms);
  }
  return { resolve_500_ms: round(median(samples)) };
}
