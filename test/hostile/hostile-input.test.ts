import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { startTaskservInstall } from '../../src/temporal/client.js';
import { bundledLibraryWith, tempDir } from '../support/library.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/** Hostile input through every door: CLI, HTTP API, workflow input. Typed errors, nothing half-installed, the worker keeps serving. */
const LONG = 'a'.repeat(10_000);
const HOSTILE_NAMES = ['../../etc', 'etc/../../passwd', 'kübernetes', 'ｋubernetes', 'kube\nrnetes', LONG, '', '-rf'];

let w: TestWorker;
beforeAll(async () => {
  w = await startTestWorker(bundledLibraryWith(), { api: {} });
});
afterAll(() => w?.stop());

function targetsCreated(): string[] {
  const dir = w.config.orchestrator.targets.targets_dir;
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function stillServes(): Promise<void> {
  const server = `ok-${randomUUID().slice(0, 6)}`;
  const { handle } = await startTaskservInstall(w.client, { name: 'redis', target: { provider: 'local', server } }, { taskQueue: w.taskQueue });
  expect((await handle.result()).status).toBe('installed');
}

describe('workflow input (as the Temporal CLI sends it: raw JSON)', () => {
  const cases: [string, unknown][] = [
    ...HOSTILE_NAMES.map((name): [string, unknown] => [`name ${JSON.stringify(name.slice(0, 20))}`, { name, target: { provider: 'local', server: 'h1' } }]),
    ['a traversal server', { name: 'etcd', target: { provider: 'local', server: '../../tmp' } }],
    ['a 10 kB server', { name: 'etcd', target: { provider: 'local', server: LONG } }],
    ['an invalid version', { name: 'etcd', version: 'one.two', target: { provider: 'local', server: 'h1' } }],
    ['an invalid range', { name: 'etcd', version: '>>=3 <<4', target: { provider: 'local', server: 'h1' } }],
    ['a name of the wrong type', { name: 42, target: { provider: 'local', server: 'h1' } }],
    ['a missing target', { name: 'etcd' }],
    ['a target of the wrong type', { name: 'etcd', target: 'local:h1' }],
    ['settings that are not an object', { name: 'etcd', target: { provider: 'local', server: 'h1' }, settings: 'port=1' }],
    ['huge settings', { name: 'etcd', target: { provider: 'local', server: 'h1' }, settings: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'.repeat(10)])) }],
    ['installDependencies of the wrong type', { name: 'etcd', target: { provider: 'local', server: 'h1' }, installDependencies: 'no' }],
  ];

  it.each(cases)('%s fails at once with InvalidInput, installing nothing', async (_what, input) => {
    const before = targetsCreated();
    const handle = await w.client.workflow.start('TaskservInstall', { taskQueue: w.taskQueue, workflowId: `hostile-${randomUUID()}`, args: [input] });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause.type).toBe('InvalidInput');
    expect(err.cause.nonRetryable).toBe(true);
    expect(targetsCreated()).toEqual(before);
  });

  it('a hostile ClusterInstall input is refused the same way', async () => {
    const handle = await w.client.workflow.start('ClusterInstall', {
      taskQueue: w.taskQueue,
      workflowId: `hostile-${randomUUID()}`,
      args: [{ name: 'k8s-basic', target: { provider: 'local', server: 'h1' }, maxParallel: 1e9 }],
    });
    expect((await handle.result().catch((e) => e)).cause.type).toBe('InvalidInput');
  });

  it('the worker keeps serving afterwards', stillServes);
});

describe('HTTP API', () => {
  async function post(path: string, body: string) {
    const response = await fetch(w.apiUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, body: (await response.json()) as { success: boolean; error: { kind: string } } };
  }

  it.each(HOSTILE_NAMES)('reload of %j is a 400 InvalidInput', async (name) => {
    const { status, body } = await post('/api/v1/extensions/reload', JSON.stringify({ extension_type: 'taskserv', name }));
    expect(status).toBe(400);
    expect(body.error.kind).toBe('InvalidInput');
  });

  it.each([
    ['a hostile server', { name: 'etcd', target: { provider: 'local', server: '../..' } }, 400],
    ['a unicode name', { name: 'ètcd', target: { provider: 'local', server: 'x' } }, 400],
    ['an invalid range', { name: 'etcd', version: '>>1', target: { provider: 'local', server: 'x' } }, 400],
    ['settings of the wrong type', { name: 'etcd', target: { provider: 'local', server: 'x' }, settings: [1, 2] }, 400],
    ['too many settings', { name: 'etcd', target: { provider: 'local', server: 'x' }, settings: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])) }, 400],
    ['huge settings', { name: 'etcd', target: { provider: 'local', server: 'x' }, settings: { big: 'x'.repeat(200_000) } }, 413],
  ])('an install with %s is refused (%s)', async (_what, body, status) => {
    const before = targetsCreated();
    const response = await post('/api/v1/workflows/taskserv-install', JSON.stringify(body));
    expect(response.status).toBe(status);
    expect(response.body.success).toBe(false);
    expect(targetsCreated()).toEqual(before);
  });

  it('a path with traversal or unicode is refused', async () => {
    for (const [path, status] of [
      ['/api/v1/extensions/taskserv/..%2F..%2Fetc', 400],
      ['/api/v1/extensions/taskserv/k%C3%BCbernetes', 400],
      [`/api/v1/extensions/taskserv/${LONG}`, 400],
    ] as const) {
      const response = await fetch(w.apiUrl + path);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { success: boolean }).success).toBe(false);
    }
  });

  it('the worker keeps serving afterwards', stillServes);
});

describe('CLI', () => {
  const prvng = (...args: string[]) =>
    execa(process.execPath, [join(PACKAGE_ROOT, 'bin/prvng.js'), ...args, '-o', 'json'], { reject: false, env: { PRVNG_DATA_DIR: tempDir('cli') } });

  it.each(HOSTILE_NAMES.filter((n) => n !== '-rf'))('module load of %j exits 2 with InvalidInput', async (name) => {
    const { exitCode, stdout } = await prvng('module', 'load', 'taskserv', name);
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout).error.kind).toBe('InvalidInput');
  });

  it.each([
    [['install', 'taskserv', '../../etc', '--target', 'local:x']],
    [['install', 'taskserv', 'etcd', '--target', 'local:../../x']],
    [['install', 'taskserv', 'etcd', '--version', '>>1']],
    [['install', 'taskserv', 'etcd', '--settings', '{not json']],
    [['install', 'cluster', 'k8s-basic', '--max-parallel', '0']],
    [['deps', 'check', 'taskserv', '../x']],
    [['graph', 'taskserv', 'etcd', '--format', 'png']],
  ])('%j exits 2 with InvalidInput before touching anything', async (args) => {
    const { exitCode, stdout } = await prvng(...args);
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout).error.kind).toBe('InvalidInput');
  });

  it('a malformed TOML config is an InvalidInput naming the file', async () => {
    const file = join(tempDir('cfg'), 'bad.toml');
    writeFileSync(file, '[orchestrator.extensions\nauto_load = yes\n');
    const { exitCode, stdout } = await prvng('--config', file, 'module', 'discover', 'taskserv');
    expect(exitCode).toBe(2);
    const { error } = JSON.parse(stdout);
    expect(error.kind).toBe('InvalidInput');
    expect(error.message).toContain(file);
  });
});
