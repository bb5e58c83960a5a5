import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities, type Activities } from '../../activities/index.js';
import { ExtensionManager } from '../../src/manager.js';
import { Targets, type Target } from '../../src/targets.js';
import type { Extension } from '../../src/types.js';
import { bundledLibraryWith, tempDir } from '../support/library.js';
import { FAILING_VERIFY } from '../support/scripts.js';
import { isAlive } from '../support/processes.js';

let manager: ExtensionManager;
let targets: Targets;
let acts: Activities;
const env = () => new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf', runId: 'run-1' } });
/** Run an activity in a fresh mock context, keeping its result type. */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env().run(fn, ...args) as Promise<R>;
}

beforeAll(() => {
  const data = tempDir('data');
  manager = new ExtensionManager({ extensionsDir: bundledLibraryWith([{ name: 'bad-verify', version: '1.0.0', main: FAILING_VERIFY }]), cacheDir: join(data, 'cache') });
  targets = new Targets(manager, join(data, 'targets'), { PRVNG_AWS_ACCESS_KEY_ID: 'AKIA-test' });
  acts = createActivities({ manager, targets });
});
afterAll(() => manager.close());

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

async function prepared(server: string, name: string, version?: string): Promise<{ target: Target; extension: Extension }> {
  const target = await run(acts.prepareTarget, { provider: 'local', server });
  const extension = await run(acts.loadExtension, { type: 'taskserv', name, ...(version ? { version } : {}) });
  return { target, extension };
}

describe('activities (MockActivityEnvironment)', () => {
  it('loadExtension returns the extension; the LRU is the manager the activities close over', async () => {
    const ext = await run(acts.loadExtension, { type: 'taskserv', name: 'etcd', version: '~3.4.0' });
    expect(ext.metadata.version).toBe('3.4.27');
    expect(await run(acts.isExtensionLoaded, { type: 'taskserv', name: 'etcd' })).toBe(true);
    expect((await run(acts.listLoadedExtensions)).map((e) => e.metadata.name)).toContain('etcd');
  });

  it.each([
    [{ type: 'taskserv', name: 'etcd', version: '9.9.9' }, 'VersionNotFound'],
    [{ type: 'taskserv', name: 'etcdd' }, 'ExtensionNotFound'],
    [{ type: 'taskserv', name: '../../etc' }, 'InvalidInput'],
    [{ type: 'plugin', name: 'etcd' }, 'InvalidInput'],
  ])('known errors become non-retryable failures typed by kind: %j', async (input, kind) => {
    const failure = await failureOf(run(acts.loadExtension, input));
    expect(failure.type).toBe(kind);
    expect(failure.nonRetryable).toBe(true);
  });

  it('a crashed load stays retryable; a missing nu binary does not', async () => {
    const script = join(tempDir('prov'), 'provisioning.nu');
    writeFileSync(script, 'def main [] {}\ndef "main module load" [] { ^kill -9 $nu.pid }\n');
    const crashing = new ExtensionManager({ extensionsDir: bundledLibraryWith(), cacheDir: tempDir('cache'), provisioningPath: script });
    const missing = new ExtensionManager({ extensionsDir: bundledLibraryWith(), cacheDir: tempDir('cache'), nuPath: '/nonexistent/nu' });
    try {
      const crash = await failureOf(run(createActivities({ manager: crashing, targets }).loadExtension, { type: 'taskserv', name: 'etcd' }));
      expect(crash.type).toBe('LoadFailure');
      expect(crash.message).toMatch(/SIGKILL/);
      expect(crash.nonRetryable).toBe(false);
      const absent = await failureOf(run(createActivities({ manager: missing, targets }).loadExtension, { type: 'taskserv', name: 'etcd' }));
      expect(absent.type).toBe('LoadFailure');
      expect(absent.message).toMatch(/cannot run \/nonexistent\/nu: ENOENT/);
      expect(absent.nonRetryable).toBe(true);
    } finally {
      await crashing.close();
      await missing.close();
    }
  });

  it('providers without credentials refuse with ProviderError; local resolves under the targets dir', async () => {
    const failure = await failureOf(run(acts.prepareTarget, { provider: 'upcloud', server: 'x1' }));
    expect(failure.type).toBe('ProviderError');
    expect(failure.message).toMatch(/PRVNG_UPCLOUD_USERNAME/);
    const target = await run(acts.prepareTarget, { provider: 'local', server: 'x1' });
    expect(target.root).toBe(join(targets.targetsDir, 'x1'));
  });

  it('executeInstallation writes a receipt; a retry of the same run does not run the script again', async () => {
    const { target, extension } = await prepared('act-1', 'redis');
    await run(acts.generateConfiguration, { extension, target });
    const input = { extension, target, workflowId: 'wf', runId: 'run-1' };
    const receipt = await run(acts.executeInstallation, input);
    expect(receipt).toMatchObject({ name: 'redis', run_id: 'run-1', content_hash: extension.content_hash });
    const spy = vi.spyOn(manager.runner, 'run');
    const again = await run(acts.executeInstallation, input);
    expect(spy).not.toHaveBeenCalled();
    expect(again).toEqual(receipt);
    spy.mockRestore();
    const verified = await run(acts.verifyInstallation, { extension, target });
    expect(verified.receipt?.verified_at).toBeTruthy();
  });

  it('validateDependencies lists what the target lacks, with who required it', async () => {
    const { target, extension } = await prepared('act-2', 'kubernetes', '1.28.0');
    const check = await run(acts.validateDependencies, { metadata: extension.metadata, target });
    expect(check.missing.map((d) => [d.name, d.range, d.required_by, d.status])).toEqual([
      ['containerd', '*', 'kubernetes@1.28.0', 'missing'],
      ['etcd', '>=3.5.0 <4.0.0', 'kubernetes@1.28.0', 'missing'],
    ]);
  });

  it('a failed check fails verify with VerificationFailed listing it; uninstall removes files and receipt', async () => {
    const { target, extension } = await prepared('act-3', 'bad-verify');
    await run(acts.generateConfiguration, { extension, target });
    await run(acts.executeInstallation, { extension, target, workflowId: 'wf', runId: 'r' });
    const failure = await failureOf(run(acts.verifyInstallation, { extension, target }));
    expect(failure.type).toBe('VerificationFailed');
    expect(failure.message).toBe('1 of 1 checks failed: always fails (fixture)');
    const removed = await run(acts.uninstallTaskserv, { extension, target });
    expect(removed.removed).toEqual(['etc/bad-verify/config.toml']);
    expect(existsSync(join(target.root, 'var/lib/prvng/receipts/bad-verify.json'))).toBe(false);
  });

  it('a target root from outside the targets dir is refused', async () => {
    const { extension } = await prepared('act-4', 'redis');
    const failure = await failureOf(run(acts.generateConfiguration, { extension, target: { provider: 'local', server: 'x', root: '/etc' } }));
    expect(failure.type).toBe('ProviderError');
  });

  it('cancellation kills the running script and is reported as a cancellation', async () => {
    const { target, extension } = await prepared('act-5', 'slowpoke');
    await run(acts.generateConfiguration, { extension, target, settings: { install_seconds: 30 } });
    const mock = env();
    const running = mock.run(acts.executeInstallation as (i: unknown) => Promise<unknown>, { extension, target, settings: { install_seconds: 30 }, workflowId: 'wf', runId: 'r' });
    const pidFile = join(target.root, 'var/lib/slowpoke/install.pid');
    await expect.poll(() => existsSync(pidFile), { timeout: 10_000 }).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    mock.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
    expect(existsSync(join(target.root, 'var/lib/prvng/receipts/slowpoke.json'))).toBe(false);
  });
});
