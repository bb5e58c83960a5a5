import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { describeDependency, type DependencyStatus } from '../src/dependencies.js';
import * as sa from '../src/search-attributes.js';
import type { Target } from '../src/targets.js';
import type { Extension } from '../src/types.js';
import { installAsChild } from './install-child.js';
import { checkTaskservInput } from './validate.js';
import {
  progressQuery,
  taskservInstallWorkflowId,
  TASKSERV_INSTALL_STEPS,
  type InstallProgress,
  type InstallStepName,
  type StepProgress,
  type TaskservInstallInput,
  type TaskservInstallResult,
} from './definitions.js';

const RETRY = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 };

/**
 * Loading, target resolution, the receipt and dependency checks and rendering the
 * configuration (into a staging folder, nothing installed yet) are quick and run in the
 * worker that holds the cache: local activities, so all of it costs one workflow task
 * instead of a server round trip each. Install and verify touch the target: full
 * activities with heartbeats, cancellation and their own retries.
 */
const QUICK: LocalActivityOptions = { startToCloseTimeout: '2 minutes', retry: RETRY };
const SCRIPT: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  // Heartbeats are throttled to 80% of this: it bounds how fast a cancel reaches a script.
  heartbeatTimeout: '5 seconds',
  // Compensation must not start while a cancelled script may still be writing.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: RETRY,
};
/** Compensation gets its own budget, so a failed install cannot leave it stuck. */
const COMPENSATION: ActivityOptions = { ...SCRIPT, startToCloseTimeout: '5 minutes', retry: { ...RETRY, maximumAttempts: 10 } };

const acts = proxyActivities<Activities>(SCRIPT);
const local = proxyLocalActivities<Activities>(QUICK);

/**
 * Install one taskserv on one target: load -> validate dependencies -> configure ->
 * install -> verify. Missing dependencies install first as child TaskservInstalls;
 * a failed install or verify is compensated by uninstalling.
 */
export async function TaskservInstall(input: TaskservInstallInput): Promise<TaskservInstallResult> {
  checkTaskservInput(input);
  const run = new StepTracker(input);
  setHandler(progressQuery, () => run.progress, {
    description: 'Where the install is: each step with its status and duration, and its dependencies',
  });
  const settings = input.settings ?? {};

  const { extension, target } = await run.step('load', async () => {
    const [extension, target] = await Promise.all([
      local.loadExtension.executeWithOptions({ ...QUICK, summary: `Load taskserv ${input.name} ${input.version ?? 'latest'}` }, [
        { type: 'taskserv', name: input.name, ...(input.version ? { version: input.version } : {}) },
      ]),
      local.prepareTarget.executeWithOptions({ ...QUICK, summary: `Prepare target ${input.target.provider}/${input.target.server}` }, [
        input.target,
      ]),
    ]);
    run.loaded(extension);
    return { extension, target };
  });

  // Started under another id (say, by `temporal workflow execute`): hand the install to the
  // workflow that owns this target and name, so there is still only one.
  if (workflowInfo().workflowId !== taskservInstallWorkflowId(input.target, input.name)) {
    run.skipRest(`delegated to ${taskservInstallWorkflowId(input.target, input.name)}`);
    return installAsChild(input);
  }

  const existing = await local.readReceipt({ target, name: extension.metadata.name });
  if (existing && existing.version === extension.metadata.version && existing.content_hash === extension.content_hash && existing.verified_at) {
    run.skipRest(`already installed by ${existing.workflow_id ?? 'an earlier install'}`);
    return run.result('already-installed', extension, target, existing, []);
  }

  const dependencies = await run.step('validate', () => installDependencies(input, extension, target, run));

  const stepInput = { extension, target, settings };
  await run.step('configure', () =>
    local.generateConfiguration.executeWithOptions({ ...QUICK, summary: `Render configuration of ${extension.metadata.name}` }, [stepInput]),
  );
  try {
    const { workflowId, runId } = workflowInfo();
    await run.step('install', () =>
      acts.executeInstallation.executeWithOptions({ ...SCRIPT, summary: `Install ${extension.metadata.name} ${extension.metadata.version}` }, [
        { ...stepInput, workflowId, runId },
      ]),
    );
    const verified = await run.step('verify', () =>
      acts.verifyInstallation.executeWithOptions({ ...SCRIPT, summary: `Verify ${extension.metadata.name}` }, [stepInput]),
    );
    run.checks = verified.checks;
    return run.result('installed', extension, target, verified.receipt!, dependencies);
  } catch (err) {
    // Over a working earlier version, uninstalling would take that one away too: keep it and say so.
    if (existing?.verified_at) {
      run.keptPrevious(`${existing.name} ${existing.version} was installed before this run; not uninstalled`);
      throw err;
    }
    await CancellationScope.nonCancellable(() =>
      run.compensate(() =>
        acts.uninstallTaskserv.executeWithOptions({ ...COMPENSATION, summary: `Compensate: uninstall ${extension.metadata.name}` }, [stepInput]),
      ),
    );
    throw err;
  }
}

/** Make every dependency present on the target, installing missing ones as children. */
async function installDependencies(
  input: TaskservInstallInput,
  extension: Extension,
  target: Target,
  run: StepTracker,
): Promise<TaskservInstallResult['dependencies']> {
  const check = await local.validateDependencies({ metadata: extension.metadata, target });
  if (check.missing.length === 0) return [];
  if (input.installDependencies === false) throw dependencyError(check.missing, 'installDependencies is false');

  const chain = [...(input.requiredBy ?? []), input.name];
  const cyclic = check.missing.filter((d) => chain.includes(d.name));
  if (cyclic.length) {
    throw ApplicationFailure.nonRetryable(`dependency cycle: ${[...chain, cyclic[0]!.name].join(' -> ')}`, 'DependencyCycle', {
      cycle: [...chain, cyclic[0]!.name],
    });
  }
  const installed = await Promise.all(
    check.missing.map(async (dep) => {
      const workflowId = taskservInstallWorkflowId(input.target, dep.name);
      const version = dep.range === '*' ? undefined : dep.range;
      run.dependency(dep.name, workflowId, 'running');
      try {
        const result = await installAsChild({ name: dep.name, target: input.target, requiredBy: chain, ...(version ? { version } : {}) });
        run.dependency(dep.name, workflowId, 'done');
        return { name: dep.name, version: result.version, status: result.status };
      } catch (err) {
        run.dependency(dep.name, workflowId, 'failed');
        throw err;
      }
    }),
  );
  const recheck = await local.validateDependencies({ metadata: extension.metadata, target });
  if (recheck.missing.length) throw dependencyError(recheck.missing, 'still missing after installing dependencies');
  return installed;
}

function dependencyError(missing: DependencyStatus[], why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`missing dependencies (${why}): ${missing.map(describeDependency).join('; ')}`, 'DependencyError', { missing });
}

/** Progress for the query, the search attributes and the Web UI's current details. */
class StepTracker {
  readonly progress: InstallProgress;
  checks: TaskservInstallResult['checks'] = [];
  private readonly durations: TaskservInstallResult['durations_ms'] = {};

  constructor(input: TaskservInstallInput) {
    this.progress = {
      name: input.name,
      version: null,
      target: input.target,
      current: 'starting',
      steps: TASKSERV_INSTALL_STEPS.map((name): StepProgress => ({ name, status: 'pending' })),
      dependencies: [],
    };
    // Also set here, not only by our client: a start from the Temporal CLI must be findable too.
    upsertSearchAttributes([
      { key: sa.ExtensionType, value: 'taskserv' },
      { key: sa.ExtensionName, value: input.name },
      { key: sa.TargetServer, value: input.target.server },
    ]);
  }

  async step<T>(name: InstallStepName, fn: () => Promise<T>): Promise<T> {
    const entry = this.entry(name);
    const started = Date.now();
    entry.status = 'running';
    entry.started_at = new Date(started).toISOString();
    this.show(name);
    try {
      const result = await fn();
      entry.status = 'done';
      return result;
    } catch (err) {
      entry.status = 'failed';
      entry.detail = err instanceof Error ? err.message : String(err);
      throw stepFailure(name, err);
    } finally {
      entry.duration_ms = Date.now() - started;
      this.durations[name] = entry.duration_ms;
    }
  }

  loaded(extension: Extension): void {
    const { metadata } = extension;
    this.progress.version = metadata.version;
    upsertSearchAttributes([{ key: sa.ExtensionVersion, value: metadata.version }]);
    upsertMemo({ extension: metadata, content_hash: extension.content_hash, snapshot: extension.snapshot_dir });
  }

  dependency(name: string, workflowId: string, status: InstallProgress['dependencies'][number]['status']): void {
    const found = this.progress.dependencies.find((d) => d.name === name);
    if (found) found.status = status;
    else this.progress.dependencies.push({ name, workflow_id: workflowId, status });
    this.show('validate');
  }

  skipRest(reason: string): void {
    for (const s of this.progress.steps) if (s.status === 'pending') Object.assign(s, { status: 'skipped', detail: reason });
    this.progress.current = 'done';
    setCurrentDetails(`Nothing to do: ${reason}`);
  }

  keptPrevious(detail: string): void {
    this.progress.steps.push({ name: 'uninstall', status: 'skipped', detail });
    this.show('uninstall');
  }

  async compensate(uninstall: () => Promise<unknown>): Promise<void> {
    const entry: StepProgress = { name: 'uninstall', status: 'running', started_at: new Date().toISOString() };
    this.progress.steps.push(entry);
    this.show('uninstall');
    try {
      await uninstall();
      entry.status = 'compensated';
    } catch (err) {
      entry.status = 'failed';
      entry.detail = err instanceof Error ? err.message : String(err);
    }
  }

  result(
    status: TaskservInstallResult['status'],
    extension: Extension,
    target: Target,
    receipt: TaskservInstallResult['receipt'],
    dependencies: TaskservInstallResult['dependencies'],
  ): TaskservInstallResult {
    const { name, version } = extension.metadata;
    this.progress.current = 'done';
    upsertSearchAttributes([{ key: sa.InstallStep, value: 'done' }]);
    const where = `${target.provider}/${target.server}`;
    const message =
      status === 'installed'
        ? `Installed ${name} ${version} on ${where}`
        : `${name} ${version} is already installed on ${where} with the same content hash: nothing to do`;
    setCurrentDetails(message);
    return {
      status,
      message,
      name,
      version,
      content_hash: extension.content_hash,
      target: { provider: target.provider, server: target.server },
      files: receipt.files,
      receipt,
      checks: this.checks,
      dependencies,
      durations_ms: this.durations,
    };
  }

  private entry(name: InstallStepName): StepProgress {
    return this.progress.steps.find((s) => s.name === name)!;
  }

  private show(step: string): void {
    this.progress.current = step;
    upsertSearchAttributes([{ key: sa.InstallStep, value: step }]);
    const lines = this.progress.steps.map((s) => `- ${s.name}: ${s.status}${s.duration_ms !== undefined ? ` (${s.duration_ms} ms)` : ''}`);
    const deps = this.progress.dependencies.map((d) => `- dependency ${d.name}: ${d.status}`);
    setCurrentDetails([`**${this.progress.name} ${this.progress.version ?? ''}**: ${step}`, ...lines, ...deps].join('\n'));
  }
}

/** The failure names the step; its type stays the error kind of the cause. */
function stepFailure(step: string, err: unknown): unknown {
  if (isCancellation(err)) return err;
  if (err instanceof ApplicationFailure && err.details?.[0] && typeof err.details[0] === 'object' && 'step' in (err.details[0] as object)) return err;
  const cause = findApplicationFailure(err);
  const message = err instanceof Error ? (cause?.message ?? err.message) : String(err);
  return ApplicationFailure.create({
    type: cause?.type ?? 'StepFailed',
    message: `${step} failed: ${message}`,
    nonRetryable: true,
    details: [{ step, ...(cause?.details?.[0] && typeof cause.details[0] === 'object' ? (cause.details[0] as object) : {}) }],
    cause: err instanceof Error ? err : undefined,
  });
}

function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as Error).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}
