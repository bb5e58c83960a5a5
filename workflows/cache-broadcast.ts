import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CacheBroadcastInput, CacheBroadcastResult } from './definitions.js';
import { innermostMessage } from './failures.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });

/** A worker that has gone away must not hold the broadcast up: it is reported unreachable. */
const ON_WORKER: ActivityOptions = {
  scheduleToStartTimeout: '10 seconds',
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 2 },
};

/**
 * Reload an extension, or clear the cache, in every live worker of a task queue: each
 * worker's own queue gets the activity, in parallel.
 */
export async function CacheBroadcast(input: CacheBroadcastInput): Promise<CacheBroadcastResult> {
  const workers = (await acts.listLiveWorkers({ taskQueue: input.taskQueue })).filter((w) => w.identity !== input.exclude);
  const outcomes = await Promise.allSettled(
    workers.map(async (worker) => {
      const options = { ...ON_WORKER, taskQueue: worker.taskQueue, summary: `${input.operation} on ${worker.identity}` };
      if (input.operation === 'clear') return void (await acts.clearCache.executeWithOptions(options, []));
      const extension = await acts.reloadExtension.executeWithOptions(options, [{ type: input.type!, name: input.name! }]);
      return extension.metadata.version;
    }),
  );
  return {
    operation: input.operation,
    workers: workers.map((worker, i) => {
      const outcome = outcomes[i]!;
      return outcome.status === 'fulfilled'
        ? { identity: worker.identity, ok: true, ...(outcome.value ? { version: outcome.value } : {}) }
        : { identity: worker.identity, ok: false, error: innermostMessage(outcome.reason) };
    }),
  };
}

