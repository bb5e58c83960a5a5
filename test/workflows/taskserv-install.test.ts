import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallConflict } from '../../src/errors.js';
import { startTaskservInstall } from '../../src/temporal/client.js';
import { progressQuery } from '../../workflows/definitions.js';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { bundledLibraryWith } from '../support/library.js';
import { FAILING_VERIFY } from '../support/scripts.js';
import { startTestWorker, TEMPORAL_ADDRESS, type TestWorker } from '../support/worker.js';
import { isAlive } from '../support/processes.js';

let w: TestWorker;
const server = () => `n-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const library = bundledLibraryWith([
    { name: 'bad-verify', version: '1.0.0', main: FAILING_VERIFY },
    { name: 'upgrade-me', version: '1.0.0' },
    { name: 'upgrade-me', version: '2.0.0', main: FAILING_VERIFY },
    { name: 'needs-etcd', version: '1.0.0', dependencies: ['etcd@^3.5.0', 'containerd'] },
  ]);
  w = await startTestWorker(library);
});
afterAll(() => w?.stop());

function targetRoot(srv: string) {
  return join(w.config.orchestrator.targets.targets_dir, srv);
}

async function start(name: string, srv: string, extra: Record<string, unknown> = {}) {
  return (await startTaskservInstall(w.client, { name, target: { provider: 'local', server: srv }, ...extra }, { taskQueue: w.taskQueue })).handle;
}

describe('TaskservInstall on a real dev server', () => {
  it('installs kubernetes 1.28.0 with containerd and etcd as child workflows', async () => {
    const srv = server();
    const handle = await start('kubernetes', srv, { version: '1.28.0' });
    expect(handle.workflowId).toBe(`taskserv-install/local/${srv}/kubernetes`);
    const result = await handle.result();

    expect(result.status).toBe('installed');
    expect(result.version).toBe('1.28.0');
    expect(result.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.dependencies.map((d) => d.name).sort()).toEqual(['containerd', 'etcd']);
    expect(result.dependencies.find((d) => d.name === 'etcd')!.version).toBe('3.5.12'); // range >=3.5 <4 over 3.4.27
    expect(result.checks.length).toBeGreaterThan(0);
    expect(result.checks.every((c) => c.ok)).toBe(true);
    expect(Object.keys(result.durations_ms).sort()).toEqual(['configure', 'install', 'load', 'validate', 'verify']);
    for (const file of result.files) expect(existsSync(join(targetRoot(srv), file))).toBe(true);

    const receipt = JSON.parse(readFileSync(join(targetRoot(srv), 'var/lib/prvng/receipts/kubernetes.json'), 'utf8'));
    expect(receipt).toMatchObject({ version: '1.28.0', workflow_id: handle.workflowId, run_id: (await handle.describe()).runId, content_hash: result.content_hash });
    for (const dep of ['containerd', 'etcd']) expect(existsSync(join(targetRoot(srv), `var/lib/prvng/receipts/${dep}.json`))).toBe(true);

    const progress = await handle.query(progressQuery);
    expect(progress.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done']);

    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get({ name: 'InstallStep', type: 'KEYWORD' } as never)).toBe('done');
    expect(await desc.staticSummary()).toBe(`Install taskserv kubernetes 1.28.0 on local/${srv}`);
    expect((desc.memo as { extension: { name: string } }).extension.name).toBe('kubernetes');
  });

  it('does nothing, and says so, when the same version and hash are installed', async () => {
    const srv = server();
    const first = await (await start('etcd', srv)).result();
    const second = await (await start('etcd', srv)).result();
    expect(first.status).toBe('installed');
    expect(second.status).toBe('already-installed');
    expect(second.message).toContain('nothing to do');
    expect(second.receipt.run_id).toBe(first.receipt.run_id);
  });

  it('fails with DependencyError listing each missing dependency when installDependencies is false', async () => {
    const handle = await start('needs-etcd', server(), { installDependencies: false });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause.type).toBe('DependencyError');
    expect(err.cause.message).toContain('etcd@^3.5.0 required by needs-etcd@1.0.0 (not installed)');
    expect(err.cause.message).toContain('containerd required by needs-etcd@1.0.0');
  });

  it('a second start asking for another version while one runs is an InstallConflict', async () => {
    const srv = server();
    const first = await start('slowpoke', srv, { settings: { install_seconds: 3 } });
    const err = await start('slowpoke', srv, { version: '1.0.0' }).catch((e) => e);
    expect(err).toBeInstanceOf(InstallConflict);
    expect(err.details).toMatchObject({ running_version: 'latest', requested_version: '1.0.0' });
    expect((await first.result()).status).toBe('installed');
  });

  it('fails an unknown version with VersionNotFound listing the versions, without retrying', async () => {
    const errorsBefore = w.plugin.manager.metrics().load_errors;
    const handle = await start('etcd', server(), { version: '9.9.9' });
    const err = await handle.result().catch((e) => e);
    expect(err.cause.type).toBe('VersionNotFound');
    expect(err.cause.message).toContain('3.5.12, 3.4.27');
    // one attempt: the worker's own manager saw exactly one failed load
    expect(w.plugin.manager.metrics().load_errors - errorsBefore).toBe(1);
  });

  it('compensates a failed verify: the files are removed and the failure names the step', async () => {
    const srv = server();
    const handle = await start('bad-verify', srv);
    const err = await handle.result().catch((e) => e);
    expect(err.cause.type).toBe('VerificationFailed');
    expect(err.cause.message).toMatch(/^verify failed: .*always fails/);
    expect(existsSync(join(targetRoot(srv), 'etc/bad-verify/config.toml'))).toBe(false);
    expect(existsSync(join(targetRoot(srv), 'var/lib/prvng/receipts/bad-verify.json'))).toBe(false);
    const progress = await handle.query(progressQuery);
    expect(progress.steps.find((s) => s.name === 'uninstall')?.status).toBe('compensated');
  });

  it('a failed upgrade does not uninstall the working version it replaced, and says so', async () => {
    const srv = server();
    expect((await (await start('upgrade-me', srv, { version: '1.0.0' })).result()).status).toBe('installed');
    const handle = await start('upgrade-me', srv, { version: '2.0.0' });
    const err = await handle.result().catch((e) => e);
    expect(err.cause.type).toBe('VerificationFailed');
    const uninstall = (await handle.query(progressQuery)).steps.find((s) => s.name === 'uninstall');
    expect(uninstall).toMatchObject({ status: 'skipped', detail: 'upgrade-me 1.0.0 was installed before this run; not uninstalled' });
    expect(existsSync(join(targetRoot(srv), 'etc/upgrade-me/config.toml'))).toBe(true);
  });

  it('cancellation during install kills the script and compensates', async () => {
    const srv = server();
    const handle = await start('slowpoke', srv, { settings: { install_seconds: 30 } });
    const pidFile = join(targetRoot(srv), 'var/lib/slowpoke/install.pid');
    await expect.poll(() => existsSync(pidFile), { timeout: 30_000, interval: 100 }).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    await handle.cancel();
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
    expect(existsSync(join(targetRoot(srv), 'var/lib/slowpoke/install.done'))).toBe(false);
    const progress = await handle.query(progressQuery);
    expect(progress.steps.find((s) => s.name === 'uninstall')?.status).toBe('compensated');
  });

  it('two concurrent starts for one target and name end in one workflow', async () => {
    const srv = server();
    const starts = () => startTaskservInstall(w.client, { name: 'redis', target: { provider: 'local', server: srv } }, { taskQueue: w.taskQueue });
    const [a, b] = await Promise.all([starts(), starts()]);
    expect(a.handle.workflowId).toBe(b.handle.workflowId);
    expect(a.runId).toBe(b.runId);
    expect([a.attached, b.attached].sort()).toEqual([false, true]);
    expect((await a.handle.result()).status).toBe('installed');
    const runs = [];
    for await (const wf of w.client.workflow.list({ query: `WorkflowId="${a.handle.workflowId}"` })) runs.push(wf.runId);
    expect(runs).toEqual([a.runId]);
  });
});

describe('started from the Temporal CLI', () => {
  it('`temporal workflow execute` runs TaskservInstall, findable by its search attributes', async () => {
    const cli = (await execa(join(PACKAGE_ROOT, 'temporal-dev.sh'), ['ensure'])).stdout.trim().split('\n').at(-1)!;
    const srv = server();
    const input = JSON.stringify({ name: 'etcd', target: { provider: 'local', server: srv } });
    // as the README shows it: no workflow id, so the CLI makes one up
    const { stdout } = await execa(cli, ['workflow', 'execute', '--address', TEMPORAL_ADDRESS, '--type', 'TaskservInstall', '--task-queue', w.taskQueue, '--input', input, '-o', 'json']);
    expect(JSON.parse(stdout).result).toMatchObject({ status: 'installed', name: 'etcd', version: '3.5.12' });
    // the install itself ran under the one id for this target and name
    const owner = await w.client.workflow.getHandle(`taskserv-install/local/${srv}/etcd`).result();
    expect(owner.receipt.workflow_id).toBe(`taskserv-install/local/${srv}/etcd`);
    await expect
      .poll(async () => {
        const found = [];
        for await (const wf of w.client.workflow.list({ query: `ExtensionName="etcd" AND TargetServer="${srv}"` })) found.push(wf.workflowId);
        return found;
      }, { timeout: 10_000 })
      .toContain(`taskserv-install/local/${srv}/etcd`);
  });
});

