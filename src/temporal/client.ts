import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import * as sa from '../search-attributes.js';
import {
  installSummary,
  progressQuery,
  taskservInstallWorkflowId,
  type InstallProgress,
  type TaskservInstallInput,
  type TaskservInstallResult,
} from '../../workflows/definitions.js';
import type { TaskservInstall } from '../../workflows/index.js';

export interface StartInstallOptions {
  taskQueue: string;
}

/**
 * Start a TaskservInstall, or attach to the one already running for this target and
 * name (workflow id `taskserv-install/<provider>/<server>/<name>`).
 */
export async function startTaskservInstall(
  client: Client,
  input: TaskservInstallInput,
  options: StartInstallOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof TaskservInstall>> {
  return client.workflow.start<typeof TaskservInstall>('TaskservInstall', {
    taskQueue: options.taskQueue,
    workflowId: taskservInstallWorkflowId(input.target, input.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    staticSummary: installSummary(input.name, input.version, input.target),
    staticDetails: `Requested ${new Date().toISOString()} with settings ${JSON.stringify(input.settings ?? {})}`,
    typedSearchAttributes: [
      { key: sa.ExtensionType, value: 'taskserv' },
      { key: sa.ExtensionName, value: input.name },
      { key: sa.ExtensionVersion, value: input.version ?? 'latest' },
      { key: sa.InstallStep, value: 'queued' },
      { key: sa.TargetServer, value: input.target.server },
    ],
  });
}

/**
 * Wait for the result while reporting each change of progress (one call per change).
 * Progress is read with the `progress` query.
 */
export async function followInstall(
  handle: WorkflowHandle<typeof TaskservInstall>,
  onProgress: (progress: InstallProgress) => void,
  pollMs = 250,
): Promise<TaskservInstallResult> {
  let last = '';
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  result.catch(() => undefined); // observed below
  const report = async () => {
    try {
      const progress = await handle.query(progressQuery);
      const seen = JSON.stringify(progress);
      if (seen !== last) {
        last = seen;
        onProgress(progress);
      }
    } catch {
      // not started yet: the next poll or the result tells
    }
  };
  while (!done) {
    await report();
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  await report(); // the last steps may have finished between two polls
  return result;
}

/** Link to a workflow in the Temporal Web UI. */
export function webUiLink(webUi: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${webUi.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}
