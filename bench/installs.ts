import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config.js';
import { TaskservInstaller } from '../src/installer.js';
import { ExtensionManager } from '../src/manager.js';
import { Targets } from '../src/targets.js';
import { startTaskservInstall } from '../src/temporal/client.js';
import { WorkerProcess } from '../test/support/worker-process.js';
import { median, round, timed } from './stats.js';

const ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

async function install(client: Client, worker: WorkerProcess, name: string, server: string, version?: string) {
  const { handle } = await startTaskservInstall(client, { name, target: { provider: 'local', server }, ...(version ? { version } : {}) }, { taskQueue: worker.taskQueue });
  return handle.result();
}

/**
 * kubernetes 1.28.0 on servers that already have containerd and etcd: through Temporal
 * (start to result, one worker) and the same steps straight through the library.
 */
export async function installOverhead(servers = 10): Promise<{ install_p50_ms: number; direct_p50_ms: number; install_overhead_ratio: number }> {
  const worker = new WorkerProcess();
  await worker.start();
  const client = new Client({ connection: await Connection.connect({ address: ADDRESS }) });
  const names = Array.from({ length: servers }, (_, i) => `ovh-${i}`);
  try {
    await Promise.all(names.flatMap((s) => [install(client, worker, 'containerd', s), install(client, worker, 'etcd', s)]));
    await install(client, worker, 'kubernetes', 'warm-up', '1.28.0'); // loads the cache, bundles nothing new
    const temporal: number[] = [];
    for (const s of names) temporal.push((await timed(() => install(client, worker, 'kubernetes', s, '1.28.0')))[0]);

    const config = loadConfig({ env: { PRVNG_DATA_DIR: mkdtempSync(join(tmpdir(), 'prvng-bench-direct-')) } });
    const manager = new ExtensionManager({ extensionsDir: config.orchestrator.extensions.extensions_dir, cacheDir: config.orchestrator.extensions.cache_dir });
    const installer = new TaskservInstaller(manager, new Targets(manager, config.orchestrator.targets.targets_dir));
    const direct: number[] = [];
    try {
      await installer.installDirect({ name: 'containerd', target: { provider: 'local', server: 'warm-up' } });
      for (const s of names) {
        const target = { provider: 'local', server: s };
        await installer.installDirect({ name: 'containerd', target });
        await installer.installDirect({ name: 'etcd', target });
        direct.push((await timed(() => installer.installDirect({ name: 'kubernetes', version: '1.28.0', target })))[0]);
      }
    } finally {
      await manager.close();
    }
    const install_p50_ms = round(median(temporal));
    const direct_p50_ms = round(median(direct));
    return { install_p50_ms, direct_p50_ms, install_overhead_ratio: round(install_p50_ms / direct_p50_ms) };
  } finally {
    await client.connection.close();
    await worker.stop();
  }
}

/** `count` TaskservInstalls of `name` (with its dependencies) on distinct servers, all at once, one worker. */
export async function concurrentInstalls(count: number, name: string): Promise<{ concurrent_installs: number; concurrent_failed: number; concurrent_seconds: number; worker_peak_rss_mb: number }> {
  const worker = new WorkerProcess();
  await worker.start();
  const client = new Client({ connection: await Connection.connect({ address: ADDRESS }) });
  try {
    const run = randomUUID().slice(0, 6);
    const [ms, outcomes] = await timed(() =>
      Promise.allSettled(Array.from({ length: count }, (_, i) => install(client, worker, name, `c${run}-${i}`))),
    );
    const completed = outcomes.filter((o) => o.status === 'fulfilled').length;
    return { concurrent_installs: completed, concurrent_failed: count - completed, concurrent_seconds: round(ms / 1000), worker_peak_rss_mb: worker.peakRssMb() };
  } finally {
    await client.connection.close();
    await worker.stop();
  }
}
