import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClusterInstall, startTaskservInstall } from '../../src/temporal/client.js';
import { bundledLibraryWith } from '../support/library.js';
import { FAILING_VERIFY } from '../support/scripts.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/** One history per path through TaskservInstall, recorded from real runs (never hand-built). */
const out = fileURLToPath(new URL('../histories/', import.meta.url));
let w: TestWorker;

beforeAll(async () => {
  w = await startTestWorker(
    bundledLibraryWith([
      { name: 'bad-verify', version: '1.0.0', main: FAILING_VERIFY },
      { type: 'cluster', name: 'half-broken', version: '1.0.0', dependencies: ['bad-verify', 'redis', 'gitea'] },
    ]),
  );
});
afterAll(() => w?.stop());

/** Scenario name -> the workflow id it ran under: replay needs the real one (the workflow reads it). */
const ids: Record<string, string> = {};

async function record(scenario: string, handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  writeFileSync(join(out, `${scenario}.json`), `${historyToJSON(history)}\n`);
  ids[scenario] = handle.workflowId;
}

async function start(name: string, server: string, extra: Record<string, unknown> = {}) {
  return (await startTaskservInstall(w.client, { name, target: { provider: 'local', server }, ...extra }, { taskQueue: w.taskQueue })).handle;
}

it('records every path', async () => {
  const srv = `rec-${randomUUID().slice(0, 6)}`;
  const happy = await start('kubernetes', srv, { version: '1.28.0' });
  await record('install-with-dependencies', happy);
  await record('dependency-child', w.client.workflow.getHandle(`taskserv-install/local/${srv}/etcd`));
  await record('already-installed', await start('kubernetes', srv, { version: '1.28.0' }));
  await record('missing-dependency', await start('kubernetes', `${srv}-b`, { installDependencies: false }));
  await record('version-not-found', await start('etcd', `${srv}-c`, { version: '9.9.9' }));
  await record('verify-failed-compensated', await start('bad-verify', `${srv}-d`));
  const slow = await start('slowpoke', `${srv}-e`, { settings: { install_seconds: 30 } });
  const pid = join(w.config.orchestrator.targets.targets_dir, `${srv}-e`, 'var/lib/slowpoke/install.pid');
  await expect.poll(() => existsSync(pid), { timeout: 30_000 }).toBe(true);
  await slow.cancel();
  await record('cancelled-during-install', slow);
  const foreign = await w.client.workflow.start('TaskservInstall', {
    taskQueue: w.taskQueue,
    workflowId: `foreign-${srv}`,
    args: [{ name: 'redis', target: { provider: 'local', server: `${srv}-f` } }],
  });
  await record('delegated-from-foreign-id', foreign);
  const cluster = { provider: 'local', server: `${srv}-g` };
  await record('cluster-installed', await startClusterInstall(w.client, { name: 'k8s-basic', target: cluster }, { taskQueue: w.taskQueue }));
  await record('cluster-failed-branch', await startClusterInstall(w.client, { name: 'half-broken', target: cluster, maxParallel: 1 }, { taskQueue: w.taskQueue }));
  writeFileSync(join(out, 'workflow-ids.json'), `${JSON.stringify(ids, null, 2)}\n`);
});
