import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { ExtensionsPlugin } from '../../src/temporal/plugin.js';
import { bundledLibraryWith } from '../support/library.js';
import { testConfig } from '../support/worker.js';

/** Histories recorded from real runs by `npm run record-histories`. */
const dir = fileURLToPath(new URL('../histories/', import.meta.url));
const ids = JSON.parse(readFileSync(`${dir}workflow-ids.json`, 'utf8')) as Record<string, string>;
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .map((f) => {
    const scenario = f.replace(/\.json$/, '');
    return { scenario, workflowId: ids[scenario]!, history: historyFromJSON(JSON.parse(readFileSync(dir + f, 'utf8'))) };
  });

describe('replay', () => {
  it('has a recorded history for every path through TaskservInstall and ClusterInstall', () => {
    expect(histories.map((h) => h.scenario).sort()).toEqual([
      'already-installed',
      'cancelled-during-install',
      'cluster-failed-branch',
      'cluster-installed',
      'delegated-from-foreign-id',
      'dependency-child',
      'install-with-dependencies',
      'missing-dependency',
      'verify-failed-compensated',
      'version-not-found',
    ]);
  });

  it('replays every recorded history with the ExtensionsPlugin', async () => {
    const plugin = new ExtensionsPlugin({ config: testConfig(bundledLibraryWith()), api: false });
    const results = [];
    for await (const result of Worker.runReplayHistories({ plugins: [plugin] }, histories)) results.push(result);
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(histories.map((h) => [h.workflowId, undefined]));
  });

  it('fails replay with a determinism error after an incompatible change', async () => {
    const workflowsPath = fileURLToPath(new URL('./incompatible-workflows.ts', import.meta.url));
    const happy = histories.find((h) => h.scenario === 'install-with-dependencies')!;
    await expect(Worker.runReplayHistory({ workflowsPath }, happy.history, happy.workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
