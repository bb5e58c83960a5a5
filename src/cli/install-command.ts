import type { Config } from '../config.js';
import { parseName, parseVersionRequest } from '../input.js';
import { parseTargetRef } from '../targets.js';
import { connectClient } from '../temporal/connection.js';
import { InvalidInput } from '../errors.js';
import { followCluster, followInstall, startClusterInstall, startTaskservInstall, webUiLink } from '../temporal/client.js';
import type { ClusterInstallInput, TaskservInstallInput } from '../../workflows/definitions.js';
import { ProgressPrinter } from './progress-printer.js';
import { printResult, type OutputFormat } from './output.js';

export interface InstallTaskservArgs {
  name: string;
  version?: string;
  target: string;
  settings?: Record<string, unknown> | undefined;
  deps: boolean;
  wait?: boolean;
  taskQueue?: string;
  output: OutputFormat;
}

/** `prvng install taskserv`: start or attach, print the Web UI link, optionally follow it. */
export async function installTaskservCommand(config: Config, args: InstallTaskservArgs): Promise<void> {
  const version = parseVersionRequest(args.version);
  const input: TaskservInstallInput = {
    name: parseName(args.name),
    target: parseTargetRef(args.target),
    installDependencies: args.deps,
    ...(version ? { version } : {}),
    ...(args.settings ? { settings: args.settings } : {}),
  };
  const client = await connectClient();
  try {
    const { handle, runId, attached } = await startTaskservInstall(client, input, { taskQueue: args.taskQueue ?? config.temporal.task_queue });
    const link = webUiLink(config.temporal.web_ui, client.options.namespace, handle.workflowId, runId);
    const human = args.output === 'table';
    if (human) console.log(`workflow ${handle.workflowId}${attached ? ' (already running: attached to it)' : ''}\n  ${link}`);
    if (!args.wait) {
      printResult(args.output, { workflow_id: handle.workflowId, run_id: runId, attached, web_ui: link }, () => 'started (use --wait to follow it)');
      return;
    }
    const printer = new ProgressPrinter();
    const result = await followInstall(handle, (p) => human && printer.print(p));
    printResult(args.output, { ...result, workflow_id: handle.workflowId, web_ui: link }, () => result.message);
  } finally {
    await client.connection.close();
  }
}

export interface InstallClusterArgs {
  name: string;
  version?: string;
  target: string;
  maxParallel: string;
  upgrade?: boolean;
  frozen?: boolean;
  wait?: boolean;
  taskQueue?: string;
  output: OutputFormat;
}

/** `prvng install cluster`: start or attach, print the Web UI link, optionally follow each taskserv. */
export async function installClusterCommand(config: Config, args: InstallClusterArgs): Promise<void> {
  const maxParallel = Number(args.maxParallel);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64) throw new InvalidInput('--max-parallel must be an integer from 1 to 64', { field: 'max-parallel' });
  const version = parseVersionRequest(args.version);
  const input: ClusterInstallInput = {
    name: parseName(args.name),
    target: parseTargetRef(args.target),
    maxParallel,
    ...(version ? { version } : {}),
    ...(args.upgrade ? { upgrade: true } : {}),
    ...(args.frozen ? { frozen: true } : {}),
  };
  const client = await connectClient();
  try {
    const handle = await startClusterInstall(client, input, { taskQueue: args.taskQueue ?? config.temporal.task_queue });
    const link = webUiLink(config.temporal.web_ui, client.options.namespace, handle.workflowId);
    const human = args.output === 'table';
    if (human) console.log(`workflow ${handle.workflowId}\n  ${link}`);
    if (!args.wait) {
      printResult(args.output, { workflow_id: handle.workflowId, web_ui: link }, () => 'started (use --wait to follow it)');
      return;
    }
    const shown = new Set<string>();
    const result = await followCluster(handle, (progress) => {
      for (const t of progress.taskservs) {
        const line = `  L${t.level} ${t.name} ${t.version}: ${t.status}${t.error ? ` - ${t.error}` : ''}`;
        if (human && t.status !== 'pending' && !shown.has(line)) {
          shown.add(line);
          console.log(line);
        }
      }
    });
    printResult(args.output, { ...result, workflow_id: handle.workflowId, web_ui: link }, () => result.message);
  } finally {
    await client.connection.close();
  }
}
