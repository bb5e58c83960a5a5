import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { checkDependencies, type DependencyCheck } from '../src/dependencies.js';
import { ChecksumMismatch, ExtensionError, VerificationFailed } from '../src/errors.js';
import type { ExtensionManager } from '../src/manager.js';
import { TaskservSteps, type StepName, type StepOutputs, type VerificationCheck } from '../src/taskserv-steps.js';
import type { Receipt, Target, TargetRef, Targets } from '../src/targets.js';
import type { Extension, ExtensionMetadata } from '../src/types.js';

/** What the activities close over: the worker process's own manager, so the LRU lives here. */
export interface ActivityDeps {
  manager: ExtensionManager;
  targets: Targets;
}

export interface LoadInput {
  type: string;
  name: string;
  version?: string;
}

export interface StepInput {
  extension: Extension;
  target: Target;
  settings?: Record<string, unknown>;
}

export interface InstallInput extends StepInput {
  workflowId: string;
  runId: string;
}

const HEARTBEAT_MS = 1_000;

/**
 * The Temporal activities: thin wrappers that validate input, call the library and
 * turn its named errors into non-retryable ApplicationFailures typed by error kind.
 */
export function createActivities({ manager, targets }: ActivityDeps) {
  const steps = new TaskservSteps(manager);

  /** Run a script step with heartbeats; cancellation kills the script's process group. */
  async function runStep<S extends StepName>(step: S, input: StepInput): Promise<StepOutputs[S]> {
    const ctx = Context.current();
    const target = targets.assertOwned(input.target);
    const extension = await ensureSnapshot(manager, input.extension);
    const beat = setInterval(() => ctx.heartbeat({ step }), HEARTBEAT_MS);
    try {
      ctx.heartbeat({ step });
      return await steps.run(step, extension, target, input.settings ?? {}, { signal: ctx.cancellationSignal });
    } catch (err) {
      // Report a cancellation as one, so the workflow ends cancelled rather than failed.
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`${step} cancelled; its script was killed`);
      throw err;
    } finally {
      clearInterval(beat);
    }
  }

  return {
    async loadExtension(input: LoadInput): Promise<Extension> {
      return failures(() => manager.loadExtension(input.type, input.name, input.version));
    },

    async reloadExtension(input: { type: string; name: string }): Promise<Extension> {
      return failures(() => manager.reloadExtension(input.type, input.name));
    },

    async listLoadedExtensions(): Promise<Extension[]> {
      return manager.listLoadedExtensions();
    },

    async isExtensionLoaded(input: { type: string; name: string }): Promise<boolean> {
      return failures(async () => manager.isExtensionLoaded(input.type, input.name));
    },

    async clearCache(): Promise<void> {
      manager.clearCache();
    },

    /** Resolve a target through its provider extension (`local` gives a folder here). */
    async prepareTarget(ref: TargetRef): Promise<Target> {
      return failures(() => targets.resolve(ref, Context.current().cancellationSignal));
    },

    async readReceipt(input: { target: Target; name: string }): Promise<Receipt | null> {
      return failures(async () => (await targets.readReceipt(targets.assertOwned(input.target), input.name)) ?? null);
    },

    async validateDependencies(input: { metadata: ExtensionMetadata; target: Target }): Promise<DependencyCheck> {
      return failures(async () => checkDependencies(input.metadata, await targets.receipts(targets.assertOwned(input.target))));
    },

    async generateConfiguration(input: StepInput): Promise<StepOutputs['configure']> {
      return failures(() => runStep('configure', input));
    },

    /**
     * Install, then write the receipt. A retry of the same run finds its own receipt and
     * returns it without running the script again; a retry after a crash before the
     * receipt re-runs the idempotent script, so the files are written once either way.
     */
    async executeInstallation(input: InstallInput): Promise<Receipt> {
      return failures(async () => {
        const target = targets.assertOwned(input.target);
        const { name, version } = input.extension.metadata;
        const existing = await targets.readReceipt(target, name);
        if (existing && existing.run_id === input.runId && existing.content_hash === input.extension.content_hash) return existing;
        const { files } = await runStep('install', input);
        const receipt: Receipt = {
          name,
          version,
          content_hash: input.extension.content_hash,
          workflow_id: input.workflowId,
          run_id: input.runId,
          files,
          installed_at: new Date().toISOString(),
          verified_at: null,
        };
        await targets.writeReceipt(target, receipt);
        return receipt;
      });
    },

    /** Run the extension's own checks; any failed check fails the step with all of them listed. */
    async verifyInstallation(input: StepInput): Promise<{ checks: VerificationCheck[]; receipt: Receipt | null }> {
      return failures(async () => {
        const { checks } = await runStep('verify', input);
        const failed = checks.filter((c) => !c.ok);
        if (failed.length) {
          const list = failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
          throw new VerificationFailed(`${failed.length} of ${checks.length} checks failed: ${list}`, { checks });
        }
        const target = targets.assertOwned(input.target);
        const receipt = await targets.readReceipt(target, input.extension.metadata.name);
        if (!receipt) return { checks, receipt: null };
        const verified = { ...receipt, verified_at: new Date().toISOString() };
        await targets.writeReceipt(target, verified);
        return { checks, receipt: verified };
      });
    },

    /** Compensation: remove what install wrote, and the receipt. Safe to repeat. */
    async uninstallTaskserv(input: StepInput): Promise<StepOutputs['uninstall']> {
      return failures(async () => {
        const removed = await runStep('uninstall', input);
        await targets.removeReceipt(targets.assertOwned(input.target), input.extension.metadata.name);
        return removed;
      });
    },

    /** Wait for an install another parent started (child workflows cannot attach to a running one). */
    async awaitInstall(input: { workflowId: string }): Promise<unknown> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await ctx.client.workflow.getHandle(input.workflowId).result();
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * Later steps run the exact files that were loaded. If this worker has no snapshot
 * (another host, a cleaned cache), load again and insist on the same content hash.
 */
async function ensureSnapshot(manager: ExtensionManager, extension: Extension): Promise<Extension> {
  if (existsSync(join(extension.snapshot_dir, 'main.nu'))) return extension;
  const { metadata } = extension;
  const fresh = await manager.loadExtension(metadata.extension_type, metadata.name, metadata.version);
  if (fresh.content_hash !== extension.content_hash) {
    throw new ChecksumMismatch(
      `${metadata.name}@${metadata.version} changed since it was loaded: expected ${extension.content_hash}, found ${fresh.content_hash}`,
      { expected: extension.content_hash, found: fresh.content_hash },
    );
  }
  return fresh;
}

/** Known errors become ApplicationFailures typed by kind; only transient ones are retried. */
async function failures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ExtensionError) {
      throw ApplicationFailure.create({
        type: err.kind,
        message: err.message,
        nonRetryable: !err.retryable,
        details: [err.details],
      });
    }
    throw err;
  }
}
