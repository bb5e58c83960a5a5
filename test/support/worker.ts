import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config.js';
import { ExtensionsPlugin } from '../../src/temporal/plugin.js';
import { tempDir } from './library.js';

// Failed workflows are what many tests expect: keep the worker's log to errors.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed in this process
}

export const TEMPORAL_ADDRESS = `127.0.0.1:${process.env.TEMPORAL_PORT ?? '7233'}`;

export interface TestWorker {
  taskQueue: string;
  /** The worker's HTTP API, when started with `api`. */
  apiUrl?: string;
  config: Config;
  plugin: ExtensionsPlugin;
  client: Client;
  stop(): Promise<void>;
}

/** Config for a test: its own data dir and library, nothing preloaded. */
export function testConfig(extensionsDir: string, dataDir = tempDir('data')): Config {
  return loadConfig({
    env: { PRVNG_DATA_DIR: dataDir, PRVNG_EXTENSIONS_DIR: extensionsDir, PRVNG_AUTO_LOAD: 'false' },
  });
}

/** A real worker with the ExtensionsPlugin on its own task queue, against the dev server. */
export async function startTestWorker(
  extensionsDir: string,
  options: { taskQueue?: string; config?: Config; api?: { token?: string } } = {},
): Promise<TestWorker> {
  const config = options.config ?? testConfig(extensionsDir);
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const client = new Client({ connection: await Connection.connect({ address: TEMPORAL_ADDRESS }) });
  let apiUrl: string | undefined;
  let listening = () => {};
  const ready = new Promise<void>((resolve) => (listening = resolve));
  const plugin = new ExtensionsPlugin({
    config,
    client,
    api: options.api ? { listen: '127.0.0.1:0', ...options.api } : false,
    onApiListening: (url) => {
      apiUrl = url;
      listening();
    },
  });
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const worker = await Worker.create({ connection, taskQueue, plugins: [plugin] });
  const running = worker.run();
  if (options.api) await ready;
  return {
    taskQueue,
    ...(apiUrl ? { apiUrl } : {}),
    config,
    plugin,
    client,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    },
  };
}
