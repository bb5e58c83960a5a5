import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { DependencyCheck } from '../src/dependencies.js';
import { ExtensionError } from '../src/errors.js';
import { TaskservInstaller, type StepOptions } from '../src/installer.js';
import { lockInstalled, planInstall, type InstallPlan, type PlanRequest } from '../src/install-plan.js';
import type { ExtensionManager } from '../src/manager.js';
import type { StepOutputs, VerificationCheck } from '../src/taskserv-steps.js';
import type { Receipt, Target, TargetRef, Targets } from '../src/targets.js';
import type { Extension, ExtensionMetadata } from '../src/types.js';
import { liveWorkers, type LiveWorker } from '../src/temporal/worker-queues.js';

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
 * The Temporal activities: thin wrappers over the library that turn its named errors
 * into ApplicationFailures typed by error kind (non-retryable unless transient).
 */
export function createActivities({ manager, targets }: ActivityDeps) {
  const installer = new TaskservInstaller(manager, targets);

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
      return failures(() => installer.validate(input.metadata, input.target));
    },

    async generateConfiguration(input: StepInput): Promise<StepOutputs['configure']> {
      return scriptStep('configure', (o) => installer.configure(input.extension, input.target, input.settings ?? {}, o));
    },

    async executeInstallation(input: InstallInput): Promise<Receipt> {
      return scriptStep('install', (o) => installer.install(input.extension, input.target, input.settings ?? {}, input, o));
    },

    async verifyInstallation(input: StepInput): Promise<{ checks: VerificationCheck[]; receipt: Receipt | null }> {
      return scriptStep('verify', (o) => installer.verify(input.extension, input.target, input.settings ?? {}, o));
    },

    /** Compensation: remove what install wrote, and the receipt. Safe to repeat. */
    async uninstallTaskserv(input: StepInput): Promise<StepOutputs['uninstall']> {
      return scriptStep('uninstall', (o) => installer.uninstall(input.extension, input.target, input.settings ?? {}, o));
    },

    /** Resolve a cluster's (or taskserv's) full dependency set against the target's lock. */
    async planInstall(input: PlanRequest & { target: Target }): Promise<InstallPlan> {
      return failures(() => planInstall(manager, targets, targets.assertOwned(input.target), input));
    },

    /** Record what an install plan installed in the target's prvng.lock. */
    async recordLock(input: { target: Target; plan: InstallPlan; installed: string[]; workflowId: string }): Promise<void> {
      await failures(() => lockInstalled(targets.assertOwned(input.target), input.plan, input.installed, input.workflowId));
    },

    /** The workers polling a task queue, each with the queue of its own (for CacheBroadcast). */
    async listLiveWorkers(input: { taskQueue: string }): Promise<LiveWorker[]> {
      return liveWorkers(Context.current().client, input.taskQueue);
    },

    /** Wait for an install another parent started (child workflows cannot attach to a running one). */
    async awaitInstall(input: { workflowId: string }): Promise<unknown> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await ctx.client.workflow.getHandle(input.workflowId).result();
      } catch (err) {
        // Its outcome is final: asking again cannot change it.
        if (err instanceof WorkflowFailedError) {
          throw ApplicationFailure.create({ type: 'DependencyError', message: `${input.workflowId} failed: ${err.cause?.message ?? err.message}`, nonRetryable: true });
        }
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** A script step: heartbeats while it runs; cancellation kills the script's process group. */
async function scriptStep<T>(step: string, run: (options: StepOptions) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat({ step }), HEARTBEAT_MS);
  try {
    return await failures(() => run({ signal: ctx.cancellationSignal }));
  } catch (err) {
    // Report a cancellation as one, so the workflow ends cancelled rather than failed.
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`${step} cancelled; its script was killed`);
    throw err;
  } finally {
    clearInterval(beat);
  }
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
