import { createServer } from 'node:net';
import { DefaultLogger, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../config.js';
import { connectWorker } from './connection.js';
import { ExtensionsPlugin, type ExtensionsPluginOptions } from './plugin.js';

export interface RunWorkerOptions extends ExtensionsPluginOptions {
  /** Default `[temporal] task_queue` (`provisioning`). */
  taskQueue?: string;
  /** Stops the worker gracefully when aborted. */
  signal?: AbortSignal;
  /** Told once the worker is polling. */
  onRunning?: (info: { taskQueue: string; namespace: string }) => void;
  /**
   * Install the process-wide Temporal runtime with this log level and, unless
   * `[temporal] sdk_metrics_listen` is "off", its Prometheus exporter (once, before the worker).
   */
  logLevel?: LogLevel;
}

/** `prvng worker`: one worker with the ExtensionsPlugin, connected through envconfig. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const config = options.config ?? loadConfig();
  let metrics = config.temporal.sdk_metrics_listen;
  let sdkMetricsUrl = options.sdkMetricsUrl;
  if (options.logLevel && metrics !== 'off' && !(await portFree(metrics))) {
    console.warn(`Temporal SDK metrics: ${metrics} is taken (another worker?); set [temporal] sdk_metrics_listen. Serving without them.`);
    metrics = 'off';
  }
  if (options.logLevel) {
    Runtime.install({
      logger: new DefaultLogger(options.logLevel),
      ...(metrics !== 'off' ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metrics } } } } : {}),
    });
    if (metrics !== 'off') sdkMetricsUrl ??= `http://${metrics}/metrics`;
  }
  const plugin = new ExtensionsPlugin({ ...options, config, ...(sdkMetricsUrl ? { sdkMetricsUrl } : {}) });
  const taskQueue = options.taskQueue ?? plugin.config.temporal.task_queue;
  const { connection, namespace } = await connectWorker();
  try {
    // After a worker dies, its sticky workflow tasks move to the shared queue after this long.
    const worker = await Worker.create({ connection, namespace, taskQueue, plugins: [plugin], stickyQueueScheduleToStartTimeout: '3s' });
    // The SDK runtime also stops workers on SIGINT/SIGTERM: only stop one that still runs.
    options.signal?.addEventListener('abort', () => worker.getState() === 'RUNNING' && worker.shutdown(), { once: true });
    const running = worker.run();
    options.onRunning?.({ taskQueue, namespace });
    await running;
  } finally {
    await connection.close();
  }
}

/** Whether `host:port` can be listened on now (the SDK's exporter fails the worker when it cannot). */
function portFree(listen: string): Promise<boolean> {
  const at = listen.lastIndexOf(':');
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .once('listening', () => probe.close(() => resolve(true)))
      .listen(Number(listen.slice(at + 1)), listen.slice(0, at));
  });
}
