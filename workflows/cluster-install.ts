import {
  ApplicationFailure,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import * as sa from '../src/search-attributes.js';
import {
  clusterProgressQuery,
  taskservInstallWorkflowId,
  type ClusterInstallInput,
  type ClusterInstallResult,
  type ClusterProgress,
  type TaskservOutcome,
} from './definitions.js';
import { innermostMessage } from './failures.js';
import { installAsChild } from './install-child.js';
import { checkClusterInput } from './validate.js';

const QUICK: LocalActivityOptions = { startToCloseTimeout: '2 minutes', retry: { initialInterval: '500ms', maximumAttempts: 5 } };
const local = proxyLocalActivities<Activities>(QUICK);

/**
 * Install a cluster: resolve its taskservs (with their dependencies, against the
 * target's lock) into levels, then run TaskservInstall children level by level, at
 * most `maxParallel` at a time. After a failure nothing new starts; what runs finishes,
 * and the failure lists what was installed, what failed and what was skipped.
 */
export async function ClusterInstall(input: ClusterInstallInput): Promise<ClusterInstallResult> {
  checkClusterInput(input);
  const progress: ClusterProgress = { name: input.name, version: null, target: input.target, current: 'planning', taskservs: [] };
  setHandler(clusterProgressQuery, () => progress, { description: 'Each taskserv of the cluster: level, status, start and end' });
  upsertSearchAttributes([
    { key: sa.ExtensionType, value: 'cluster' },
    { key: sa.ExtensionName, value: input.name },
    { key: sa.TargetServer, value: input.target.server },
    { key: sa.InstallStep, value: 'planning' },
  ]);

  const [cluster, target] = await Promise.all([
    local.loadExtension.executeWithOptions({ ...QUICK, summary: `Load cluster ${input.name}` }, [
      { type: 'cluster', name: input.name, ...(input.version ? { version: input.version } : {}) },
    ]),
    local.prepareTarget.executeWithOptions({ ...QUICK, summary: `Prepare target ${input.target.provider}/${input.target.server}` }, [input.target]),
  ]);
  progress.version = cluster.metadata.version;
  upsertSearchAttributes([{ key: sa.ExtensionVersion, value: cluster.metadata.version }]);
  upsertMemo({ extension: cluster.metadata, content_hash: cluster.content_hash });

  const plan = await local.planInstall.executeWithOptions({ ...QUICK, summary: `Resolve the taskservs of ${input.name}` }, [
    { type: 'cluster', name: input.name, version: cluster.metadata.version, target, ...(input.upgrade ? { upgrade: true } : {}), ...(input.frozen ? { frozen: true } : {}) },
  ]);
  const versionOf = new Map(plan.packages.map((p) => [p.name, p.version]));
  progress.taskservs = plan.levels.flatMap((names, level) =>
    names.map((name): TaskservOutcome => ({
      name,
      version: versionOf.get(name)!,
      level,
      status: 'pending',
      workflow_id: taskservInstallWorkflowId(input.target, name),
      started_at: null,
      ended_at: null,
    })),
  );

  const maxParallel = Math.max(1, input.maxParallel ?? 4);
  let failed = false;
  for (const [level, names] of plan.levels.entries()) {
    if (failed) break;
    show(progress, `level ${level + 1} of ${plan.levels.length}`);
    const queue = progress.taskservs.filter((t) => t.level === level);
    const lane = async () => {
      for (let next = queue.shift(); next && !failed; next = queue.shift()) {
        failed = !(await installOne(next, input)) || failed;
        show(progress, `level ${level + 1} of ${plan.levels.length}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxParallel, names.length) }, lane));
  }
  for (const t of progress.taskservs) if (t.status === 'pending') t.status = 'skipped';

  const done = progress.taskservs.filter((t) => t.status === 'installed' || t.status === 'already-installed');
  if (failed) {
    show(progress, 'failed');
    const by = (status: TaskservOutcome['status']) => progress.taskservs.filter((t) => t.status === status).map((t) => t.name);
    const failures = progress.taskservs.filter((t) => t.status === 'failed');
    throw ApplicationFailure.nonRetryable(
      `cluster ${input.name}: ${failures.map((t) => `${t.name} failed (${t.error})`).join('; ')}; installed: ${by('installed').concat(by('already-installed')).join(', ') || 'none'}; skipped: ${by('skipped').join(', ') || 'none'}`,
      'ClusterInstallFailed',
      { taskservs: progress.taskservs },
    );
  }
  await local.recordLock.executeWithOptions({ ...QUICK, summary: 'Record the installed versions in prvng.lock' }, [
    { target, plan, installed: done.map((t) => t.name), workflowId: workflowInfo().workflowId },
  ]);
  show(progress, 'done');
  const message = `Installed cluster ${input.name} ${cluster.metadata.version} on ${input.target.provider}/${input.target.server}: ${done.length} taskservs in ${plan.levels.length} levels`;
  setCurrentDetails(message);
  return { status: 'installed', message, name: input.name, version: cluster.metadata.version, target: input.target, levels: plan.levels, taskservs: progress.taskservs };
}

/** One taskserv as a child TaskservInstall at the planned exact version; false when it failed. */
async function installOne(t: TaskservOutcome, input: ClusterInstallInput): Promise<boolean> {
  t.status = 'running';
  t.started_at = new Date().toISOString();
  try {
    const result = await installAsChild({
      name: t.name,
      version: t.version,
      target: input.target,
      // the plan put every dependency in an earlier level
      installDependencies: false,
      requiredBy: [`cluster:${input.name}`],
      ...(input.settings?.[t.name] ? { settings: input.settings[t.name] } : {}),
    });
    // Attached to a run another parent started: it may have installed another version.
    if (result.version !== t.version) {
      t.status = 'failed';
      t.error = `InstallConflict: ${t.workflow_id} installed ${result.version}, the plan needs ${t.version}`;
      return false;
    }
    t.status = result.status;
    return true;
  } catch (err) {
    t.status = 'failed';
    t.error = innermostMessage(err);
    return false;
  } finally {
    t.ended_at = new Date().toISOString();
  }
}

function show(progress: ClusterProgress, step: string): void {
  progress.current = step;
  upsertSearchAttributes([{ key: sa.InstallStep, value: step }]);
  const lines = progress.taskservs.map((t) => `- L${t.level} ${t.name} ${t.version}: ${t.status}`);
  setCurrentDetails([`**cluster ${progress.name} ${progress.version ?? ''}**: ${step}`, ...lines].join('\n'));
}

