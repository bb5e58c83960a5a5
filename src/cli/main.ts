import { Command, Option } from 'commander';
import { loadConfig, managerOptions, type Config } from '../config.js';
import { InvalidInput } from '../errors.js';
import { parseExtensionType } from '../input.js';
import { ExtensionManager } from '../manager.js';
import { exitWithError, type OutputFormat } from './output.js';
import { discoverCommand, loadCommand } from './module-commands.js';
import { installClusterCommand, installTaskservCommand } from './install-command.js';
import { depsCheckCommand, graphCommand } from './deps-commands.js';
import { extensionsApiCommand } from './extensions-commands.js';
import { runWorker } from '../temporal/worker.js';

interface GlobalOptions {
  output: OutputFormat;
  extensionsDir?: string;
  config?: string;
}

const program = new Command('prvng')
  .description('Load provisioning extensions through Nushell and install them with Temporal workflows')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'table']).default('table'))
  .option('--extensions-dir <dir>', 'extension library to use')
  .option('--config <file>', 'user configuration file (default: PRVNG_CONFIG, else ./prvng.toml)')
  .showHelpAfterError();

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

function config(): Config {
  const g = globals();
  return loadConfig({
    ...(g.config ? { file: g.config } : {}),
    overrides: g.extensionsDir ? { 'orchestrator.extensions.extensions_dir': g.extensionsDir } : {},
  });
}

/** A one-shot manager for the CLI: no watcher, audited like any other. */
function cliManager(cfg = config()): ExtensionManager {
  return new ExtensionManager({ ...managerOptions(cfg), hotReload: false });
}

/** Run a command; named errors exit 2 with their JSON, others 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      exitWithError(err, globals().output);
    }
  };
}

const module = program.command('module').description('discover and load extensions (the reference\'s `provisioning module`)');
module
  .command('discover <type>')
  .description('list every extension of a type (provider, taskserv, cluster), broken manifests included')
  .option('--name <name>', 'only this extension')
  .action(
    action(async (type: string, opts: { name?: string }) => {
      const manager = cliManager();
      try {
        await discoverCommand(manager, parseExtensionType(type), opts.name, globals().output);
      } finally {
        await manager.close();
      }
    }),
  );
module
  .command('load <type> <name>')
  .description('load one extension (latest stable version unless --version)')
  .option('--version <version>', 'exact version or semver range')
  .action(
    action(async (type: string, name: string, opts: { version?: string }) => {
      const manager = cliManager();
      try {
        await loadCommand(manager, type, name, opts.version, globals().output);
      } finally {
        await manager.close();
      }
    }),
  );

program
  .command('worker')
  .description('run a Temporal worker with the extensions plugin (connection from TEMPORAL_* / envconfig)')
  .option('--task-queue <queue>', 'task queue (default [temporal] task_queue)')
  .option('--no-api', 'do not serve the HTTP API')
  .action(
    action(async (opts: { taskQueue?: string; api: boolean }) => {
      const controller = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
      await runWorker({
        config: config(),
        api: opts.api,
        signal: controller.signal,
        logLevel: 'WARN',
        ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}),
        onApiListening: (url) => console.log(`API listening on ${url}`),
        onRunning: ({ taskQueue, namespace }) => console.log(`worker polling task queue "${taskQueue}" in namespace "${namespace}"`),
      });
    }),
  );

const deps = program.command('deps').description('dependency resolution');
deps
  .command('check <type> <name>')
  .description('resolve the full dependency set; a status word per dependency (against a target with --target)')
  .option('--version <version>', 'exact version or semver range')
  .option('--target <provider:server>', 'compare with what this target has installed')
  .action(
    action(async (type: string, name: string, opts: { version?: string; target?: string }) => {
      const cfg = config();
      const manager = cliManager(cfg);
      try {
        await depsCheckCommand(manager, cfg, { type, name, ...opts }, globals().output);
      } finally {
        await manager.close();
      }
    }),
  );

program
  .command('graph <type> <name>')
  .description('the dependency graph as a picture (nodes coloured by status with --target)')
  .option('--version <version>', 'exact version or semver range')
  .option('--target <provider:server>', 'colour nodes by what this target has installed')
  .option('--format <format>', 'dot, mermaid or svg', 'dot')
  .option('--out <file>', 'write to a file instead of stdout')
  .action(
    action(async (type: string, name: string, opts: { version?: string; target?: string; format: string; out?: string }) => {
      const cfg = config();
      const manager = cliManager(cfg);
      try {
        await graphCommand(manager, cfg, { type, name, ...opts });
      } finally {
        await manager.close();
      }
    }),
  );

const install = program.command('install').description('install through Temporal workflows');
install
  .command('taskserv <name>')
  .description('start (or attach to) a TaskservInstall workflow')
  .option('--version <version>', 'exact version or semver range (default: latest)')
  .option('--target <provider:server>', 'where to install', 'local:node-1')
  .option('--settings <json>', 'settings object for the taskserv, as JSON')
  .option('--no-deps', 'fail instead of installing missing dependencies')
  .option('--wait', 'wait for the result, showing each step as it advances')
  .option('--task-queue <queue>', 'task queue (default [temporal] task_queue)')
  .action(
    action(async (name: string, opts: { version?: string; target: string; settings?: string; deps: boolean; wait?: boolean; taskQueue?: string }) => {
      let settings: Record<string, unknown> | undefined;
      if (opts.settings !== undefined) {
        try {
          settings = JSON.parse(opts.settings);
        } catch {
          throw new InvalidInput('--settings must be a JSON object', { field: 'settings' });
        }
      }
      await installTaskservCommand(config(), { ...opts, name, settings, output: globals().output });
    }),
  );

install
  .command('cluster <name>')
  .description('start (or attach to) a ClusterInstall workflow: its taskservs level by level')
  .option('--version <version>', 'exact version or semver range (default: latest)')
  .option('--target <provider:server>', 'where to install', 'local:node-1')
  .option('--max-parallel <n>', 'taskservs installing at once within a level', '4')
  .option('--upgrade', "ignore the target's prvng.lock and take the highest versions that fit")
  .option('--frozen', "fail if the resolution would change the target's prvng.lock")
  .option('--wait', 'wait for the result, showing each taskserv as it advances')
  .option('--task-queue <queue>', 'task queue (default [temporal] task_queue)')
  .action(
    action(async (name: string, opts: { version?: string; target: string; maxParallel: string; upgrade?: boolean; frozen?: boolean; wait?: boolean; taskQueue?: string }) => {
      await installClusterCommand(config(), { ...opts, name, output: globals().output });
    }),
  );

const extensions = program.command('extensions').description("ask a running worker's HTTP API about its cache");
extensions.command('loaded').description('extensions cached in the worker').action(action(() => extensionsApiCommand(config(), 'loaded', globals().output)));
extensions
  .command('reload <type> <name>')
  .description('reload an extension in the worker')
  .action(action((type: string, name: string) => extensionsApiCommand(config(), 'reload', globals().output, { type, name })));
extensions.command('clear').description("clear the worker's cache").action(action(() => extensionsApiCommand(config(), 'clear', globals().output)));

await program.parseAsync();
