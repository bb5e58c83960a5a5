/**
 * TaskservInstall with one incompatible change: the target is prepared before the
 * extension is loaded, instead of both at once. Replaying recorded histories against
 * it must fail with a determinism error.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { TaskservInstallInput } from '../../workflows/definitions.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export async function TaskservInstall(input: TaskservInstallInput): Promise<void> {
  await acts.readReceipt({ target: { ...input.target, root: '/' }, name: input.name });
  await acts.loadExtension({ type: 'taskserv', name: input.name });
}
