import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExtensionManager } from '../src/manager.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { median, percentile, round, timed } from './stats.js';

const RUNS = 5;

function manager(extensionsDir = join(PACKAGE_ROOT, 'extensions')): ExtensionManager {
  const data = mkdtempSync(join(tmpdir(), 'prvng-bench-'));
  return new ExtensionManager({ extensionsDir, cacheDir: join(data, 'cache'), auditFile: join(data, 'audit.jsonl') });
}

/** In-process cache hits (audit included, as in production): p50 and p99 per run, median of runs. */
export async function cachedLoads(iterations = 20_000): Promise<{ cached_load_p50_us: number; cached_load_p99_us: number }> {
  const m = manager();
  await m.loadExtension('taskserv', 'kubernetes', '1.28.0');
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const samples = new Array<number>(iterations);
    for (let i = 0; i < iterations; i++) {
      const start = process.hrtime.bigint();
      await m.loadExtension('taskserv', 'kubernetes', '1.28.0');
      samples[i] = Number(process.hrtime.bigint() - start) / 1e3;
    }
    p50s.push(percentile(samples, 0.5));
    p99s.push(percentile(samples, 0.99));
  }
  await m.close();
  return { cached_load_p50_us: round(median(p50s)), cached_load_p99_us: round(median(p99s)) };
}

/** Empty cache, real Nushell: each load spawns `provisioning module load`, hashes and snapshots. */
export async function coldLoads(iterations = 30): Promise<{ cold_load_p50_ms: number; cold_load_p99_ms: number }> {
  const m = manager();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    m.clearCache();
    samples.push((await timed(() => m.loadExtension('taskserv', 'kubernetes', '1.28.0')))[0]);
  }
  await m.close();
  return { cold_load_p50_ms: round(percentile(samples, 0.5)), cold_load_p99_ms: round(percentile(samples, 0.99)) };
}

/** One `module discover` call over a generated library of 300 manifests. */
export async function discovery(count = 300): Promise<{ discover_300_ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'prvng-bench-lib-'));
  for (let i = 0; i < count; i++) {
    const folder = join(dir, 'taskservs', `svc-${i}`, '1.0.0');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'extension.toml'), `name = "svc-${i}"\nversion = "1.0.0"\ndescription = "generated ${i}"\ndependencies = ["svc-${(i + 1) % count}"]\n`);
  }
  const m = manager(dir);
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const [ms, found] = await timed(() => m.discover('taskserv'));
    if (found.length !== count) throw new Error(`discovered ${found.length} of ${count}`);
    samples.push(ms);
  }
  await m.close();
  return { discover_300_ms: round(median(samples)) };
}
