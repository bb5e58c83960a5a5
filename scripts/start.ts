/**
 * `npm start`: the main job. Brings up the local dev server (temporal-dev.sh), a worker
 * with the extensions plugin and its API, then installs kubernetes 1.28.0 with its
 * dependencies on local/node-1, one line per step, and leaves the worker running so
 * the Web UI has something to show. `-- --server NAME` picks another target, `-- --once`
 * exits after the install.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { connectClient } from '../src/temporal/connection.js';
import { followInstall, startTaskservInstall, webUiLink } from '../src/temporal/client.js';
import { runWorker } from '../src/temporal/worker.js';
import { ProgressPrinter } from '../src/cli/progress-printer.js';

const { values } = parseArgs({ options: { server: { type: 'string', default: 'node-1' }, once: { type: 'boolean', default: false } } });
const config = loadConfig();
const target = { provider: 'local', server: values.server! };

execFileSync(join(PACKAGE_ROOT, 'temporal-dev.sh'), ['start'], { stdio: 'inherit' });

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
let ready!: () => void;
const polling = new Promise<void>((resolve) => (ready = resolve));
const worker = runWorker({
  config,
  signal: stop.signal,
  logLevel: 'WARN',
  onApiListening: (url) => console.log(`worker API: ${url}`),
  onRunning: ({ taskQueue }) => {
    console.log(`worker polling task queue "${taskQueue}"`);
    ready();
  },
});
await Promise.race([polling, worker]);

const client = await connectClient();
const { handle } = await startTaskservInstall(client, { name: 'kubernetes', version: '1.28.0', target }, { taskQueue: config.temporal.task_queue });
const link = webUiLink(config.temporal.web_ui, client.options.namespace, handle.workflowId);
console.log(`\nInstall taskserv kubernetes 1.28.0 on local/${target.server}\n  ${link}`);

const printer = new ProgressPrinter();
try {
  const result = await followInstall(handle, (progress) => printer.print(progress));
  console.log(`\n${result.message}`);
  for (const dep of result.dependencies) console.log(`  with ${dep.name} ${dep.version} (${dep.status})`);
  console.log(`  files under ${join(config.orchestrator.targets.targets_dir, target.server)}: ${result.files.length}`);
} catch (err) {
  console.error(`install failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  process.exitCode = 1;
}
const query = encodeURIComponent(`ExtensionName="kubernetes" OR ExtensionName="containerd" OR ExtensionName="etcd"`);
console.log(`\nWeb UI: ${config.temporal.web_ui}/namespaces/${encodeURIComponent(client.options.namespace)}/workflows?query=${query}`);
await client.connection.close();

if (values.once) stop.abort();
else console.log('The worker keeps running for the Web UI and the API; Ctrl-C stops it (./temporal-dev.sh stop stops the server).');
await worker;

