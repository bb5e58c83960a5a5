import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterInstall } from '../../src/temporal/client.js';
import type { TaskservOutcome } from '../../workflows/definitions.js';
import { makeLibrary } from '../support/library.js';
import { FAILING_VERIFY, sleepyTaskserv } from '../support/scripts.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

let w: TestWorker;
const server = () => `c-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const local = readFileSync(join(PACKAGE_ROOT, 'extensions/providers/local/1.0.0/main.nu'), 'utf8');
  const localManifest = readFileSync(join(PACKAGE_ROOT, 'extensions/providers/local/1.0.0/extension.toml'), 'utf8');
  const library = makeLibrary([
    { type: 'provider', name: 'local', version: '1.0.0', main: local, manifest: localManifest },
    { name: 'sleepy-a', version: '1.0.0', main: sleepyTaskserv(2) },
    { name: 'sleepy-b', version: '1.0.0', main: sleepyTaskserv(2) },
    { name: 'sleepy-c', version: '1.0.0', main: sleepyTaskserv(2) },
    { name: 'sleepy-d', version: '1.0.0', main: sleepyTaskserv(1) },
    { name: 'bad-verify', version: '1.0.0', main: FAILING_VERIFY },
    { name: 'needs-bad', version: '1.0.0', dependencies: ['bad-verify'] },
    { name: 'base', version: '1.0.0' },
    { name: 'top-a', version: '1.0.0', dependencies: ['base'] },
    { name: 'top-b', version: '1.0.0', dependencies: ['base@^1.0.0'] },
    { type: 'cluster', name: 'duo', version: '1.0.0', dependencies: ['sleepy-a', 'sleepy-b'] },
    { type: 'cluster', name: 'diamond', version: '1.0.0', dependencies: ['top-a', 'top-b'] },
    { type: 'cluster', name: 'broken', version: '1.0.0', dependencies: ['bad-verify', 'sleepy-c', 'sleepy-d', 'needs-bad'] },
  ]);
  w = await startTestWorker(library);
});
afterAll(() => w?.stop());

function start(name: string, srv: string, extra: Record<string, unknown> = {}) {
  return startClusterInstall(w.client, { name, target: { provider: 'local', server: srv }, ...extra }, { taskQueue: w.taskQueue });
}

const byName = (outcomes: TaskservOutcome[]) => Object.fromEntries(outcomes.map((t) => [t.name, t]));

describe('ClusterInstall on a real dev server', () => {
  it('installs two independent taskservs at overlapping times and locks them', async () => {
    const srv = server();
    const result = await (await start('duo', srv, { maxParallel: 2 })).result();
    expect(result.levels).toEqual([['sleepy-a', 'sleepy-b']]);
    const { 'sleepy-a': a, 'sleepy-b': b } = byName(result.taskservs);
    expect([a!.status, b!.status]).toEqual(['installed', 'installed']);
    // each started before the other ended: they ran at the same time
    expect(a!.started_at! < b!.ended_at! && b!.started_at! < a!.ended_at!).toBe(true);
    const lock = JSON.parse(readFileSync(join(w.config.orchestrator.targets.targets_dir, srv, 'var/lib/prvng/prvng.lock'), 'utf8'));
    expect(Object.keys(lock.packages)).toEqual(['sleepy-a', 'sleepy-b']);
    expect(lock.packages['sleepy-a']).toMatchObject({ version: '1.0.0', installed_by: `cluster-install/local/${srv}/duo`, constraints: [{ range: '*', required_by: 'duo@1.0.0' }] });
    expect(lock.packages['sleepy-a'].content_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('with maxParallel 1 the same two run one after the other', async () => {
    const result = await (await start('duo', server(), { maxParallel: 1 })).result();
    const { 'sleepy-a': a, 'sleepy-b': b } = byName(result.taskservs);
    expect(a!.ended_at! <= b!.started_at!).toBe(true);
  });

  it('installs a diamond dependency once, in the level below its dependents', async () => {
    const srv = server();
    const result = await (await start('diamond', srv)).result();
    expect(result.levels).toEqual([['base'], ['top-a', 'top-b']]);
    expect(result.taskservs.filter((t) => t.name === 'base')).toHaveLength(1);
    const runs = [];
    for await (const wf of w.client.workflow.list({ query: `WorkflowId="taskserv-install/local/${srv}/base"` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
  });

  it('a failing branch stops the rest: the failure says what was installed, what failed, what was skipped', async () => {
    const srv = server();
    const handle = await start('broken', srv, { maxParallel: 2 });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause.type).toBe('ClusterInstallFailed');
    const outcomes = byName(err.cause.details[0].taskservs);
    expect(outcomes['bad-verify']!.status).toBe('failed');
    expect(outcomes['bad-verify']!.error).toMatch(/always fails/);
    expect(outcomes['sleepy-c']!.status).toBe('installed'); // already running: allowed to finish
    expect(outcomes['sleepy-d']!.status).toBe('skipped'); // not started after the failure
    expect(outcomes['needs-bad']!.status).toBe('skipped');
    expect(err.cause.message).toMatch(/installed: sleepy-c; skipped: needs-bad, sleepy-d|skipped: sleepy-d, needs-bad/);
    const receipts = readdirSync(join(w.config.orchestrator.targets.targets_dir, srv, 'var/lib/prvng/receipts'));
    expect(receipts).toEqual(['sleepy-c.json']);
    expect(existsSync(join(w.config.orchestrator.targets.targets_dir, srv, 'var/lib/prvng/prvng.lock'))).toBe(false);
  });

  it('is findable by its search attributes', async () => {
    const srv = server();
    await (await start('diamond', srv)).result();
    await expect
      .poll(async () => {
        const found = [];
        for await (const wf of w.client.workflow.list({ query: `ExtensionType="cluster" AND ExtensionName="diamond" AND TargetServer="${srv}"` })) found.push(wf.workflowId);
        return found;
      }, { timeout: 10_000 })
      .toEqual([`cluster-install/local/${srv}/diamond`]);
  });
});
