import { executeChild, proxyActivities } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import * as sa from '../src/search-attributes.js';
import { installSummary, taskservInstallWorkflowId, type TaskservInstallInput, type TaskservInstallResult } from './definitions.js';
import type { TaskservInstall } from './taskserv-install.js';

const { awaitInstall } = proxyActivities<Activities>({ startToCloseTimeout: '1 hour', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 5 } });

/**
 * Run a TaskservInstall as a child under its one workflow id
 * (`taskserv-install/<provider>/<server>/<name>`), or wait for the run that already
 * holds it (another parent's): child workflows cannot attach on their own.
 */
export async function installAsChild(input: TaskservInstallInput): Promise<TaskservInstallResult> {
  const workflowId = taskservInstallWorkflowId(input.target, input.name);
  try {
    return await executeChild<typeof TaskservInstall>('TaskservInstall', {
      workflowId,
      args: [input],
      staticSummary: installSummary(input.name, input.version, input.target),
      typedSearchAttributes: [
        { key: sa.ExtensionType, value: 'taskserv' },
        { key: sa.ExtensionName, value: input.name },
        { key: sa.TargetServer, value: input.target.server },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return (await awaitInstall.executeWithOptions(
      { startToCloseTimeout: '1 hour', heartbeatTimeout: '30 seconds', summary: `Wait for ${workflowId}` },
      [{ workflowId }],
    )) as TaskservInstallResult;
  }
}
