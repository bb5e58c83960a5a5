import type { FastifyPluginAsync } from 'fastify';
import type { Client } from '@temporalio/client';
import { InvalidInput } from '../errors.js';
import { parseName, parseVersionRequest } from '../input.js';
import { parseTargetRef } from '../targets.js';
import { startTaskservInstall, webUiLink } from '../temporal/client.js';
import { progressQuery, type CacheBroadcastInput, type CacheBroadcastResult } from '../../workflows/definitions.js';

/** What the API needs of Temporal; absent when the API runs without a worker. */
export interface TemporalAccess {
  client: () => Promise<Client>;
  taskQueue: string;
  webUi: string;
  /** This worker's identity, left out of broadcasts (it has done the work itself). */
  identity: string;
  /** Run an operation on every other live worker of the task queue. */
  broadcast(op: Omit<CacheBroadcastInput, 'taskQueue'>): Promise<CacheBroadcastResult>;
}

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const workflowRoutes: FastifyPluginAsync<{ temporal: TemporalAccess | undefined }> = async (app, { temporal }) => {
  if (!temporal) return;

  app.post<{ Body: { name: string; version?: string; target: { provider: string; server: string }; settings?: Record<string, unknown>; install_dependencies?: boolean } }>(
    '/api/v1/workflows/taskserv-install',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'target'],
          properties: {
            name: NAME,
            version: { type: 'string', minLength: 1, maxLength: 256 },
            target: { type: 'object', additionalProperties: false, required: ['provider', 'server'], properties: { provider: NAME, server: NAME } },
            settings: { type: 'object', maxProperties: 256 },
            install_dependencies: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      const { body } = req;
      const version = parseVersionRequest(body.version);
      const client = await temporal.client();
      const { handle, runId, attached } = await startTaskservInstall(
        client,
        {
          name: parseName(body.name),
          target: parseTargetRef(`${body.target.provider}:${body.target.server}`),
          ...(version ? { version } : {}),
          ...(body.settings ? { settings: body.settings } : {}),
          ...(body.install_dependencies === false ? { installDependencies: false } : {}),
        },
        { taskQueue: temporal.taskQueue },
      );
      return { success: true, data: { workflow_id: handle.workflowId, run_id: runId, attached, web_ui: webUiLink(temporal.webUi, client.options.namespace, handle.workflowId, runId) } };
    },
  );

  // Workflow ids hold slashes (taskserv-install/local/node-1/kubernetes): take the rest of the path.
  app.get<{ Params: { '*': string } }>('/api/v1/workflows/*', async (req) => {
    const id = req.params['*']; // already decoded by Fastify
    if (!/^(taskserv|cluster)-install\//.test(id)) throw new InvalidInput(`not an install workflow id: ${JSON.stringify(id.slice(0, 100))}`, { field: 'id' });
    const client = await temporal.client();
    const handle = client.workflow.getHandle(id);
    const description = await handle.describe();
    let progress = null;
    try {
      progress = await handle.query(progressQuery);
    } catch {
      // not a TaskservInstall, or no worker to answer: the status still says where it is
    }
    return {
      success: true,
      data: {
        workflow_id: description.workflowId,
        run_id: description.runId,
        type: description.type,
        status: description.status.name,
        start_time: description.startTime.toISOString(),
        close_time: description.closeTime?.toISOString() ?? null,
        progress,
        web_ui: webUiLink(temporal.webUi, client.options.namespace, description.workflowId, description.runId),
      },
    };
  });
};
