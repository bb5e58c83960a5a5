import type { Config } from '../config.js';
import { parseName, parseVersionRequest } from '../input.js';
import { parseTargetRef } from '../targets.js';
import { connectClient } from '../temporal/connection.js';
import { followInstall, startTaskservInstall, webUiLink } from '../temporal/client.js';
import type { TaskservInstallInput } from '../../workflows/definitions.js';
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
