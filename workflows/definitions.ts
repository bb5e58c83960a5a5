/**
 * What workflows, clients and tests share: inputs, results, the progress query and the
 * workflow id rule. Workflow-safe: types, and pure functions of the workflow SDK.
 */
import { defineQuery } from '@temporalio/workflow';
import type { VerificationCheck } from '../src/taskserv-steps.js';
import type { Receipt, TargetRef } from '../src/targets.js';

export const TASKSERV_INSTALL_STEPS = ['load', 'validate', 'configure', 'install', 'verify'] as const;
export type InstallStepName = (typeof TASKSERV_INSTALL_STEPS)[number];

export interface TaskservInstallInput {
  name: string;
  /** Exact version or semver range; latest stable when omitted. */
  version?: string;
  target: TargetRef;
  settings?: Record<string, unknown>;
  /** Install missing dependencies first, each as a child TaskservInstall. Default true. */
  installDependencies?: boolean;
  /** Taskservs whose install asked for this one (cycle guard); set by parents. */
  requiredBy?: string[];
}

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'compensated';

export interface StepProgress {
  name: InstallStepName | 'uninstall';
  status: StepStatus;
  started_at?: string;
  duration_ms?: number;
  detail?: string;
}

export interface InstallProgress {
  name: string;
  version: string | null;
  target: TargetRef;
  current: string;
  steps: StepProgress[];
  dependencies: { name: string; workflow_id: string; status: 'running' | 'done' | 'failed' }[];
}

export interface TaskservInstallResult {
  status: 'installed' | 'already-installed';
  message: string;
  name: string;
  version: string;
  content_hash: string;
  target: TargetRef;
  files: string[];
  receipt: Receipt;
  checks: VerificationCheck[];
  dependencies: { name: string; version: string; status: TaskservInstallResult['status'] }[];
  durations_ms: Partial<Record<InstallStepName, number>>;
}

export const progressQuery = defineQuery<InstallProgress>('progress');

/** One install per target and name: a second start attaches to the running one. */
export function taskservInstallWorkflowId(target: TargetRef, name: string): string {
  return `taskserv-install/${target.provider}/${target.server}/${name}`;
}

export function installSummary(name: string, version: string | undefined, target: TargetRef): string {
  return `Install taskserv ${name} ${version ?? 'latest'} on ${target.provider}/${target.server}`;
}

export interface CacheBroadcastInput {
  operation: 'reload' | 'clear';
  taskQueue: string;
  type?: string;
  name?: string;
  /** A worker that has done it already (the one whose API was called). */
  exclude?: string;
}

export interface CacheBroadcastResult {
  operation: CacheBroadcastInput['operation'];
  workers: { identity: string; ok: boolean; version?: string; error?: string }[];
}

export interface ClusterInstallInput {
  name: string;
  version?: string;
  target: TargetRef;
  /** Taskservs installing at once within a level. Default 4. */
  maxParallel?: number;
  /** Ignore the target's lock and take the highest versions that fit. */
  upgrade?: boolean;
  /** Fail when the resolution would change the target's lock. */
  frozen?: boolean;
  /** Settings per taskserv name. */
  settings?: Record<string, Record<string, unknown>>;
}

export type TaskservOutcomeStatus = 'pending' | 'running' | 'installed' | 'already-installed' | 'failed' | 'skipped';

export interface TaskservOutcome {
  name: string;
  version: string;
  level: number;
  status: TaskservOutcomeStatus;
  workflow_id: string;
  started_at: string | null;
  ended_at: string | null;
  error?: string;
}

export interface ClusterProgress {
  name: string;
  version: string | null;
  target: TargetRef;
  current: string;
  taskservs: TaskservOutcome[];
}

export interface ClusterInstallResult {
  status: 'installed';
  message: string;
  name: string;
  version: string;
  target: TargetRef;
  levels: string[][];
  taskservs: TaskservOutcome[];
}

export const clusterProgressQuery = defineQuery<ClusterProgress>('progress');

export function clusterInstallWorkflowId(target: TargetRef, name: string): string {
  return `cluster-install/${target.provider}/${target.server}/${name}`;
}

export function clusterSummary(name: string, version: string | undefined, target: TargetRef): string {
  return `Install cluster ${name} ${version ?? 'latest'} on ${target.provider}/${target.server}`;
}
