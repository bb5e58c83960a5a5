import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * Every worker also polls a task queue of its own, named after the shared queue and its
 * identity, so an operation on the cache (which lives in each worker process) can reach
 * each of them: list the shared queue's pollers, derive their queues.
 */
export function privateTaskQueue(sharedQueue: string, identity: string): string {
  return `${sharedQueue}@${identity}`;
}

export interface LiveWorker {
  identity: string;
  taskQueue: string;
}

/** Workers that polled the shared queue for activities within `freshMs`. */
export async function liveWorkers(client: Client, sharedQueue: string, freshMs = 120_000): Promise<LiveWorker[]> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: sharedQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const now = Date.now();
  const identities = new Set<string>();
  for (const poller of pollers ?? []) {
    const seen = Number(poller.lastAccessTime?.seconds ?? 0) * 1000;
    if (poller.identity && now - seen <= freshMs) identities.add(poller.identity);
  }
  return [...identities].sort().map((identity) => ({ identity, taskQueue: privateTaskQueue(sharedQueue, identity) }));
}
