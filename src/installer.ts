import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkDependencies, describeDependency, type DependencyCheck } from './dependencies.js';
import { ChecksumMismatch, DependencyError, VerificationFailed } from './errors.js';
import type { ExtensionManager } from './manager.js';
import type { RunOptions } from './nushell/runner.js';
import type { Receipt, Target, TargetRef, Targets } from './targets.js';
import { TaskservSteps, type StepName, type StepOutputs, type VerificationCheck } from './taskserv-steps.js';
import type { Extension, ExtensionMetadata } from './types.js';

/** Who installed something: recorded in the receipt. */
export interface Provenance {
  workflowId: string | null;
  runId: string | null;
}

export type StepOptions = Pick<RunOptions, 'signal' | 'timeoutMs'>;

export interface DirectInstallRequest {
  name: string;
  version?: string;
  target: TargetRef;
  settings?: Record<string, unknown>;
}

/**
 * The steps of a taskserv install against one target, usable without Temporal: the
 * activities wrap each step, and `installDirect` runs them all in one go.
 */
export class TaskservInstaller {
  private readonly steps: TaskservSteps;

  constructor(
    readonly manager: ExtensionManager,
    readonly targets: Targets,
  ) {
    this.steps = new TaskservSteps(manager);
  }

  async validate(metadata: ExtensionMetadata, target: Target): Promise<DependencyCheck> {
    return checkDependencies(metadata, await this.targets.receipts(this.targets.assertOwned(target)));
  }

  configure(extension: Extension, target: Target, settings: Record<string, unknown>, options: StepOptions = {}) {
    return this.step('configure', extension, target, settings, options);
  }

  /**
   * Install, then write the receipt. A repeat for the same run finds its own receipt and
   * returns it without running the script again; a repeat after a crash before the
   * receipt re-runs the idempotent script, so the files are written once either way.
   */
  async install(extension: Extension, target: Target, settings: Record<string, unknown>, by: Provenance, options: StepOptions = {}): Promise<Receipt> {
    const owned = this.targets.assertOwned(target);
    const { name, version } = extension.metadata;
    const existing = await this.targets.readReceipt(owned, name);
    if (existing && by.runId !== null && existing.run_id === by.runId && existing.content_hash === extension.content_hash) return existing;
    const { files } = await this.step('install', extension, owned, settings, options);
    const receipt: Receipt = {
      name,
      version,
      content_hash: extension.content_hash,
      workflow_id: by.workflowId,
      run_id: by.runId,
      files,
      installed_at: new Date().toISOString(),
      verified_at: null,
    };
    await this.targets.writeReceipt(owned, receipt);
    return receipt;
  }

  /** Run the extension's own checks; any failed check fails the step with all of them listed. */
  async verify(extension: Extension, target: Target, settings: Record<string, unknown>, options: StepOptions = {}): Promise<{ checks: VerificationCheck[]; receipt: Receipt | null }> {
    const owned = this.targets.assertOwned(target);
    const { checks } = await this.step('verify', extension, owned, settings, options);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) {
      const list = failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
      throw new VerificationFailed(`${failed.length} of ${checks.length} checks failed: ${list}`, { checks });
    }
    const receipt = await this.targets.readReceipt(owned, extension.metadata.name);
    if (!receipt) return { checks, receipt: null };
    const verified = { ...receipt, verified_at: new Date().toISOString() };
    await this.targets.writeReceipt(owned, verified);
    return { checks, receipt: verified };
  }

  /** Remove what install wrote, and the receipt. Safe to repeat. */
  async uninstall(extension: Extension, target: Target, settings: Record<string, unknown>, options: StepOptions = {}) {
    const removed = await this.step('uninstall', extension, target, settings, options);
    await this.targets.removeReceipt(this.targets.assertOwned(target), extension.metadata.name);
    return removed;
  }

  /** The whole install without Temporal: dependencies must already be on the target. */
  async installDirect(request: DirectInstallRequest): Promise<{ receipt: Receipt; checks: VerificationCheck[]; status: 'installed' | 'already-installed' }> {
    const settings = request.settings ?? {};
    const [extension, target] = await Promise.all([
      this.manager.loadExtension('Taskserv', request.name, request.version),
      this.targets.resolve(request.target),
    ]);
    const existing = await this.targets.readReceipt(target, extension.metadata.name);
    if (existing?.verified_at && existing.version === extension.metadata.version && existing.content_hash === extension.content_hash) {
      return { receipt: existing, checks: [], status: 'already-installed' };
    }
    const { missing } = await this.validate(extension.metadata, target);
    if (missing.length) throw new DependencyError(`missing dependencies: ${missing.map(describeDependency).join('; ')}`, { missing });
    await this.configure(extension, target, settings);
    await this.install(extension, target, settings, { workflowId: null, runId: null });
    const { checks, receipt } = await this.verify(extension, target, settings);
    return { receipt: receipt!, checks, status: 'installed' };
  }

  private async step<S extends StepName>(step: S, extension: Extension, target: Target, settings: Record<string, unknown>, options: StepOptions): Promise<StepOutputs[S]> {
    const owned = this.targets.assertOwned(target);
    return this.steps.run(step, await this.ensureSnapshot(extension), owned, settings, options);
  }

  /**
   * Steps run the exact files that were loaded. If this process has no snapshot (another
   * host, a cleaned cache), load again and insist on the same content hash.
   */
  private async ensureSnapshot(extension: Extension): Promise<Extension> {
    // The folder comes from this process's cache dir and the hash, never from the input as given.
    const snapshotDir = join(this.manager.options.cacheDir, extension.content_hash);
    if (/^[0-9a-f]{64}$/.test(extension.content_hash) && existsSync(join(snapshotDir, 'main.nu'))) return { ...extension, snapshot_dir: snapshotDir };
    const { metadata } = extension;
    const fresh = await this.manager.loadExtension(metadata.extension_type, metadata.name, metadata.version);
    if (fresh.content_hash !== extension.content_hash) {
      throw new ChecksumMismatch(
        `${metadata.name}@${metadata.version} changed since it was loaded: expected ${extension.content_hash}, found ${fresh.content_hash}`,
        { expected: extension.content_hash, found: fresh.content_hash },
      );
    }
    return fresh;
  }
}
