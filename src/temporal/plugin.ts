import { fileURLToPath } from 'node:url';
import { SimplePlugin } from '@temporalio/plugin';
import { createActivities } from '../../activities/index.js';
import { ApiServer } from '../api/server.js';
import { loadConfig, managerOptions, type Config } from '../config.js';
import { ExtensionManager } from '../manager.js';
import { Targets } from '../targets.js';
import { EXTENSION_TYPES } from '../types.js';

/** Our workflows (TaskservInstall), as .ts under vitest and .js once built. */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

export interface ExtensionsPluginOptions {
  /** Default: `loadConfig()` (config.defaults.toml, user file, PRVNG_* environment). */
  config?: Config;
  /** A manager to use instead of one built from the config. */
  manager?: ExtensionManager;
  /** Serve the HTTP API while the worker runs. Default true; `listen` overrides `[api] listen`. */
  api?: boolean | { listen?: string; token?: string };
  /** Preload every discovered extension when the worker starts. Default `[orchestrator.extensions] auto_load`. */
  autoLoad?: boolean;
  /** Told the API's URL once it listens. */
  onApiListening?: (url: string) => void;
}

/**
 * The prvng-extensions Temporal plugin: registers the extension activities (closures over
 * this worker process's ExtensionManager, so the LRU lives in the activity worker) and the
 * TaskservInstall workflow, and runs the HTTP API around `worker.run()`.
 *
 *   Worker.create({ taskQueue: 'provisioning', plugins: [new ExtensionsPlugin()] })
 *
 * A worker with workflows of its own keeps its `workflowsPath` and re-exports ours from it.
 */
export class ExtensionsPlugin extends SimplePlugin {
  readonly manager: ExtensionManager;
  readonly config: Config;

  constructor(options: ExtensionsPluginOptions = {}) {
    const config = options.config ?? loadConfig();
    const manager = options.manager ?? new ExtensionManager(managerOptions(config));
    const targets = new Targets(manager, config.orchestrator.targets.targets_dir);
    const api = options.api ?? true;
    super({
      name: 'prvng-extensions',
      activities: createActivities({ manager, targets }),
      workflowsPath: (existing) => existing ?? WORKFLOWS_PATH,
      runContext: async (next) => {
        let server: ApiServer | undefined;
        if (api) {
          const overrides = typeof api === 'object' ? api : {};
          const token = overrides.token ?? config.api.token;
          server = new ApiServer({ manager, listen: overrides.listen ?? config.api.listen, ...(token ? { token } : {}) });
          options.onApiListening?.(await server.start());
        }
        try {
          if (options.autoLoad ?? config.orchestrator.extensions.auto_load) await preload(manager);
          await next();
        } finally {
          await server?.stop();
          await manager.close();
        }
      },
    });
    this.manager = manager;
    this.config = config;
  }
}

/** `auto_load`: the latest version of every valid extension of every type. */
async function preload(manager: ExtensionManager): Promise<void> {
  for (const type of EXTENSION_TYPES) {
    const found = await manager.discover(type);
    const names = new Set(found.filter((e) => e.ok).map((e) => (e.ok ? e.metadata.name : '')));
    await Promise.allSettled([...names].map((name) => manager.loadExtension(type, name)));
  }
}
