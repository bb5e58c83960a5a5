import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy } from '@temporalio/common';
import { InstallConflict } from '../errors.js';
import type { Client, WorkflowHandle } from '@temporalio/client';
import * as sa from '../search-attributes.js';
import {
  clusterInstallWorkflowId,
  clusterProgressQuery,
  clusterSummary,
  installSummary,
  progressQuery,
  taskservInstallWorkflowId,
  type ClusterInstallInput,
  type ClusterProgress,
  type InstallProgress,
  type TaskservInstallInput,
  type TaskservInstallResult,
} from '../../workflows/definitions.js';
import type { ClusterInstall, TaskservInstall } from '../../workflows/index.js';

export interface StartInstallOptions {
  taskQueue: string;
}

export interface StartedInstall {
  handle: WorkflowHandle<typeof TaskservInstall>;
  runId: string;
  /** An install for this target and name was already running: this is that one. */
  attached: boolean;
}

/**
 * Start a TaskservInstall, or attach to the one already running for this target and
 * name (workflow id `taskserv-install/<provider>/<server>/<name>`). A running one asked
 * for another version is an InstallConflict rather than a silent attach.
 */
export async function startTaskservInstall(client: Client, input: TaskservInstallInput, options: StartInstallOptions): Promise<StartedInstall> {
  const requested = input.version ?? 'latest';
  const workflowId = taskservInstallWorkflowId(input.target, input.name);
  try {
    const handle = await client.workflow.start<typeof TaskservInstall>('TaskservInstall', {
      taskQueue: options.taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      args: [input],
      staticSummary: installSummary(input.name, input.version, input.target),
      staticDetails: `Requested ${new Date().toISOString()} with settings ${JSON.stringify(input.settings ?? {})}`,
      memo: { requested: { version: requested } },
      typedSearchAttributes: [
        { key: sa.ExtensionType, value: 'taskserv' },
        { key: sa.ExtensionName, value: input.name },
        { key: sa.ExtensionVersion, value: requested },
        { key: sa.InstallStep, value: 'queued' },
        { key: sa.TargetServer, value: input.target.server },
      ],
    });
    return { handle, runId: handle.firstExecutionRunId, attached: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle<typeof TaskservInstall>(workflowId);
    const running = await handle.describe();
    const theirs = (running.memo?.requested as { version?: string } | undefined)?.version ?? 'latest';
    if (theirs !== requested) {
      throw new InstallConflict(`${workflowId} is already running for version ${theirs}; wait for it or cancel it before asking for ${requested}`, {
        workflow_id: workflowId,
        running_version: theirs,
        requested_version: requested,
      });
    }
    return { handle, runId: running.runId, attached: true };
  }
}

/** Start a ClusterInstall (workflow id `cluster-install/<provider>/<server>/<name>`), or attach to the running one. */
export async function startClusterInstall(client: Client, input: ClusterInstallInput, options: StartInstallOptions): Promise<WorkflowHandle<typeof ClusterInstall>> {
  return client.workflow.start<typeof ClusterInstall>('ClusterInstall', {
    taskQueue: options.taskQueue,
    workflowId: clusterInstallWorkflowId(input.target, input.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    staticSummary: clusterSummary(input.name, input.version, input.target),
    typedSearchAttributes: [
      { key: sa.ExtensionType, value: 'cluster' },
      { key: sa.ExtensionName, value: input.name },
      { key: sa.ExtensionVersion, value: input.version ?? 'latest' },
      { key: sa.InstallStep, value: 'queued' },
      { key: sa.TargetServer, value: input.target.server },
    ],
  });
}

/** As followInstall, for a ClusterInstall. */
export async function followCluster(
  handle: WorkflowHandle<typeof ClusterInstall>,
  onProgress: (progress: ClusterProgress) => void,
  pollMs = 250,
) {
  return follow(handle, () => handle.query(clusterProgressQuery), onProgress, pollMs);
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
  return follow(handle, () => handle.query(progressQuery), onProgress, pollMs);
}

async function follow<R, P>(handle: WorkflowHandle<() => Promise<R>>, query: () => Promise<P>, onProgress: (progress: P) => void, pollMs: number): Promise<R> {
  let last = '';
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  result.catch(() => undefined); // observed below
  const report = async () => {
    try {
      const progress = await query();
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
