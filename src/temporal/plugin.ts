import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { SimplePlugin } from '@temporalio/plugin';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { ApiServer } from '../api/server.js';
import type { TemporalAccess } from '../api/workflow-routes.js';
import { loadConfig, managerOptions, type Config } from '../config.js';
import { ExtensionManager } from '../manager.js';
import { Targets } from '../targets.js';
import { EXTENSION_TYPES } from '../types.js';
import type { CacheBroadcast } from '../../workflows/cache-broadcast.js';
import { connectClient } from './connection.js';
import { privateTaskQueue } from './worker-queues.js';

/** Our workflows (TaskservInstall, CacheBroadcast), as .ts under vitest and .js once built. */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

export interface ExtensionsPluginOptions {
  /** Default: `loadConfig()` (config.defaults.toml, user file, PRVNG_* environment). */
  config?: Config;
  /** A manager to use instead of one built from the config. */
  manager?: ExtensionManager;
  /** Serve the HTTP API while the worker runs. Default true; `listen` / `token` override `[api]`. */
  api?: boolean | { listen?: string; token?: string };
  /** Preload every discovered extension when the worker starts. Default `[orchestrator.extensions] auto_load`. */
  autoLoad?: boolean;
  /** The client the API starts workflows with; default one from envconfig, made on first use. */
  client?: Client;
  /** The Temporal SDK runtime's Prometheus endpoint, appended to the API's `/metrics`. */
  sdkMetricsUrl?: string;
  /** Told the API's URL once it listens. */
  onApiListening?: (url: string) => void;
}

/**
 * The prvng-extensions Temporal plugin: registers the extension activities (closures over
 * this worker process's ExtensionManager, so the LRU lives in the activity worker) and the
 * workflows, and runs around `worker.run()`: the HTTP API, and a second poller on the
 * worker's own task queue so cache reloads reach every worker.
 *
 *   Worker.create({ taskQueue: 'provisioning', plugins: [new ExtensionsPlugin()] })
 *
 * A worker with workflows of its own keeps its `workflowsPath` and re-exports ours from it.
 */
export class ExtensionsPlugin extends SimplePlugin {
  readonly manager: ExtensionManager;
  readonly config: Config;
  /** The worker this plugin runs in, once `worker.run()` has started. */
  private worker: Worker | undefined;

  constructor(options: ExtensionsPluginOptions = {}) {
    const config = options.config ?? loadConfig();
    const manager = options.manager ?? new ExtensionManager(managerOptions(config));
    const targets = new Targets(manager, config.orchestrator.targets.targets_dir);
    const activities = createActivities({ manager, targets });
    const self = { worker: (): Worker => this.worker! };
    super({
      name: 'prvng-extensions',
      activities,
      workflowsPath: (existing) => existing ?? WORKFLOWS_PATH,
      runContext: async (next) => {
        const worker = self.worker();
        let preloading: 'off' | 'running' | 'done' = 'off';
        const own = await ownQueueWorker(worker, activities);
        // If the worker on our own queue fails, stop the main one too rather than die unhandled.
        const ownRun = own.run().catch((err: unknown) => {
          console.error('the worker on this process\'s own task queue failed:', err);
          if (worker.getState() === 'RUNNING') worker.shutdown();
        });
        const access = temporalAccess(worker, config, options.client);
        let server: ApiServer | undefined;
        try {
          if (options.api ?? true) {
            const overrides = typeof options.api === 'object' ? options.api : {};
            const token = overrides.token ?? config.api.token;
            server = new ApiServer({
              manager,
              targets,
              preload: () => preloading,
              listen: overrides.listen ?? config.api.listen,
              temporal: access,
              ...(token ? { token } : {}),
              ...(options.sdkMetricsUrl ? { sdkMetricsUrl: options.sdkMetricsUrl } : {}),
            });
            options.onApiListening?.(await server.start());
          }
          if (options.autoLoad ?? config.orchestrator.extensions.auto_load) {
            preloading = 'running';
            await preload(manager);
            preloading = 'done';
          }
          await next();
        } finally {
          await server?.stop();
          if (own.getState() === 'RUNNING') own.shutdown();
          await ownRun;
          await access.close();
          await manager.close();
        }
      },
    });
    this.manager = manager;
    this.config = config;
  }

  override runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
    this.worker = worker;
    return super.runWorker(worker, next);
  }
}

/** A worker on this process's own queue, with just the cache operations a broadcast sends. */
async function ownQueueWorker(worker: Worker, activities: ReturnType<typeof createActivities>): Promise<Worker> {
  const { namespace, taskQueue, identity } = worker.options;
  return Worker.create({
    connection: worker.connection!,
    namespace,
    identity,
    taskQueue: privateTaskQueue(taskQueue, identity),
    activities: { reloadExtension: activities.reloadExtension, clearCache: activities.clearCache },
  });
}

function temporalAccess(worker: Worker, config: Config, given: Client | undefined): TemporalAccess & { close(): Promise<void> } {
  let client: Promise<Client> | undefined = given ? Promise.resolve(given) : undefined;
  const { taskQueue, identity } = worker.options;
  const access: TemporalAccess & { close(): Promise<void> } = {
    client: () => (client ??= connectClient()),
    /** Close the client only if it is ours (made on first use). */
    async close() {
      if (client && !given) await (await client).connection.close();
    },
    taskQueue,
    webUi: config.temporal.web_ui,
    identity,
    async broadcast(op) {
      return (await access.client()).workflow.execute<typeof CacheBroadcast>('CacheBroadcast', {
        taskQueue,
        workflowId: `cache-broadcast/${op.operation}/${randomUUID()}`,
        args: [{ ...op, taskQueue, exclude: identity }],
        staticSummary: `Cache ${op.operation}${op.name ? ` of ${op.type} ${op.name}` : ''} on every worker of ${taskQueue}`,
      });
    },
  };
  return access;
}

/** `auto_load`: the latest version of every valid extension of every type. */
async function preload(manager: ExtensionManager): Promise<void> {
  for (const type of EXTENSION_TYPES) {
    const found = await manager.discover(type);
    const names = new Set(found.flatMap((e) => (e.ok ? [e.metadata.name] : [])));
    await Promise.allSettled([...names].map((name) => manager.loadExtension(type, name)));
  }
}
