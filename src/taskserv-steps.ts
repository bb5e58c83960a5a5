import { join } from 'node:path';
import type { RunOptions } from './nushell/runner.js';
import type { ExtensionManager } from './manager.js';
import { ScriptLease } from './script-lease.js';
import type { Target } from './targets.js';
import type { Extension } from './types.js';

export type StepName = 'configure' | 'install' | 'verify' | 'uninstall';

export interface VerificationCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StepOutputs {
  configure: { files: string[] };
  install: { files: string[] };
  verify: { checks: VerificationCheck[] };
  uninstall: { removed: string[] };
}

/**
 * Runs a taskserv's own `main.nu` steps against a target, from the snapshot of the
 * files that were loaded (DESIGN.md section 3 for the script contract).
 */
export class TaskservSteps {
  constructor(private readonly manager: ExtensionManager) {}

  async run<S extends StepName>(
    step: S,
    extension: Extension,
    target: Target,
    settings: Record<string, unknown> = {},
    options: Pick<RunOptions, 'signal' | 'timeoutMs'> = {},
  ): Promise<StepOutputs[S]> {
    const { name, version } = extension.metadata;
    const request = {
      step,
      extension: { name, version, content_hash: extension.content_hash },
      settings,
      target,
      work_dir: join(target.root, 'var', 'lib', 'prvng', 'staging', name),
    };
    // One script of this taskserv on this target at a time: a script left running by a worker
    // that died (SIGKILL does not reach its process group) is killed before this step starts.
    const lease = new ScriptLease(join(target.root, 'var', 'lib', 'prvng', 'running', `${name}.json`));
    await lease.reapPrevious();
    let pgid: number | undefined;
    try {
      const { data } = await this.manager.runner.run<StepOutputs[S]>(join(extension.snapshot_dir, 'main.nu'), step, request, {
        ...options,
        cwd: target.root,
        onSpawn: (pid) => {
          pgid = pid;
          lease.hold(pid, step);
        },
      });
      return data;
    } finally {
      if (pgid !== undefined) lease.release(pgid);
    }
  }
}
