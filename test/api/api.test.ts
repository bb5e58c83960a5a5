import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { ExtensionManager } from '../../src/manager.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { Targets } from '../../src/targets.js';
import { bundledLibraryWith, tempDir } from '../support/library.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const library = bundledLibraryWith();
let w: TestWorker;
let api: string;

beforeAll(async () => {
  w = await startTestWorker(library, { api: {} });
  api = w.apiUrl!;
});
afterAll(() => w?.stop());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(api + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { success: boolean; data?: any; error?: any } };
}

describe('the reference endpoints, field by field', () => {
  it('GET /api/v1/extensions/loaded lists what this worker loaded during a real install, in the reference shape', async () => {
    expect((await call('GET', '/api/v1/extensions/loaded')).body).toEqual({ success: true, data: [] });
    const { handle } = await (await import('../../src/temporal/client.js')).startTaskservInstall(
      w.client,
      { name: 'kubernetes', version: '1.28.0', target: { provider: 'local', server: 'api-contract' } },
      { taskQueue: w.taskQueue },
    );
    await handle.result();

    const { status, body } = await call('GET', '/api/v1/extensions/loaded');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['success', 'data']);
    expect(body.success).toBe(true);
    const names = body.data.map((e: any) => `${e.metadata.extension_type}:${e.metadata.name}@${e.metadata.version}`).sort();
    expect(names).toEqual(['Provider:local@1.0.0', 'Taskserv:containerd@1.7.13', 'Taskserv:etcd@3.5.12', 'Taskserv:kubernetes@1.28.0']);

    const k8s = body.data.find((e: any) => e.metadata.name === 'kubernetes');
    // the reference's example, key by key
    expect(Object.keys(k8s)).toEqual(['metadata', 'path', 'loaded_at']);
    expect(Object.keys(k8s.metadata)).toEqual(['name', 'version', 'description', 'extension_type', 'dependencies', 'author', 'repository']);
    expect(k8s.metadata.name).toBe('kubernetes');
    expect(k8s.metadata.version).toBe('1.28.0');
    expect(k8s.metadata.description).toBe('Kubernetes container orchestrator');
    expect(k8s.metadata.extension_type).toBe('Taskserv');
    expect(k8s.metadata.dependencies.map((d: string) => d.split('@')[0])).toEqual(['containerd', 'etcd']);
    expect(k8s.metadata.author).toBe('provisioning-team');
    expect(k8s.metadata.repository).toBeNull();
    expect(k8s.path).toBe('extensions/taskservs/kubernetes');
    expect(k8s.loaded_at).toMatch(RFC3339);
  });

  it('POST /api/v1/extensions/reload answers exactly the reference JSON and reloads', async () => {
    await w.plugin.manager.loadExtension('taskserv', 'kubernetes', '1.28.0');
    const before = w.plugin.manager.metrics().reloads;
    const { status, body } = await call('POST', '/api/v1/extensions/reload', { extension_type: 'taskserv', name: 'kubernetes' });
    expect(status).toBe(200);
    expect(body).toEqual({ success: true, data: 'Extension kubernetes reloaded' });
    expect(w.plugin.manager.metrics().reloads).toBe(before + 1);
  });
});

describe('what operators expect beside them', () => {
  it('GET /api/v1/extensions/available lists discovered extensions with versions', async () => {
    const { body } = await call('GET', '/api/v1/extensions/available?type=taskserv');
    const etcd = body.data.find((e: any) => e.name === 'etcd');
    expect(etcd).toMatchObject({ extension_type: 'Taskserv', versions: ['3.5.12', '3.4.27'], latest: '3.5.12', invalid: [] });
    const all = await call('GET', '/api/v1/extensions/available');
    expect(new Set(all.body.data.map((e: any) => e.extension_type))).toEqual(new Set(['Provider', 'Taskserv', 'Cluster']));
  });

  it('GET /api/v1/extensions/{type}/{name} tells versions, dependencies and what is cached', async () => {
    w.plugin.manager.clearCache();
    await w.plugin.manager.loadExtension('taskserv', 'kubernetes', '1.28.0');
    const { body } = await call('GET', '/api/v1/extensions/taskserv/kubernetes');
    expect(body.data).toMatchObject({
      name: 'kubernetes',
      versions: ['1.29.2', '1.28.0'],
      latest: '1.29.2',
      dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'],
      cached: true,
      cached_versions: ['1.28.0'],
    });
  });

  it('DELETE /api/v1/extensions/cache clears it', async () => {
    await w.plugin.manager.loadExtension('taskserv', 'etcd');
    expect((await call('DELETE', '/api/v1/extensions/cache')).body).toEqual({ success: true, data: 'Extension cache cleared' });
    expect((await call('GET', '/api/v1/extensions/loaded')).body.data).toEqual([]);
  });

  it('GET /api/v1/metrics and GET /metrics give the same figures', async () => {
    await w.plugin.manager.loadExtension('taskserv', 'etcd');
    await w.plugin.manager.loadExtension('taskserv', 'etcd');
    const { body } = await call('GET', '/api/v1/metrics');
    expect(body.data).toMatchObject({ total_extension_loads: expect.any(Number), cache_hits: expect.any(Number), cache_hit_ratio: expect.any(Number) });
    const text = await (await fetch(`${api}/metrics`)).text();
    expect(text).toContain(`prvng_extension_loads_total ${body.data.total_extension_loads}`);
    expect(text).toContain(`prvng_extension_cache_hits_total ${body.data.cache_hits}`);
    expect(text).toMatch(/# TYPE prvng_extension_cold_load_seconds summary/);
  });

  it('GET /api/v1/extensions/{type}/{name}/graph draws the dependency graph, coloured by a target', async () => {
    const svg = await fetch(`${api}/api/v1/extensions/taskserv/kubernetes/graph?format=svg&version=1.28.0&target=local:api-contract`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    const text = await svg.text();
    expect(text).toContain('<svg');
    for (const name of ['kubernetes', 'containerd', 'etcd']) expect(text).toContain(name);
    expect(text).toContain('#c8e6c9'); // installed on api-contract by the first test: green
    const dot = await (await fetch(`${api}/api/v1/extensions/cluster/k8s-basic/graph?format=dot`)).text();
    expect(dot).toMatch(/^digraph/);
    expect(dot).toContain('"kubernetes" -> "etcd"');
    const bad = await call('GET', '/api/v1/extensions/taskserv/kubernetes/graph?format=png');
    expect(bad.status).toBe(400);
  });

  it('GET /health', async () => {
    const { status, body } = await call('GET', '/health');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ status: 'ok', task_queue: w.taskQueue });
  });

  it('POST /api/v1/workflows/taskserv-install starts an install; GET /api/v1/workflows/{id} shows it', async () => {
    const started = await call('POST', '/api/v1/workflows/taskserv-install', { name: 'redis', target: { provider: 'local', server: 'api-wf' } });
    expect(started.status).toBe(200);
    expect(started.body.data).toMatchObject({ workflow_id: 'taskserv-install/local/api-wf/redis', attached: false });
    expect(started.body.data.web_ui).toContain('/workflows/taskserv-install%2Flocal%2Fapi-wf%2Fredis/');
    await w.client.workflow.getHandle(started.body.data.workflow_id).result();
    const { body } = await call('GET', `/api/v1/workflows/${started.body.data.workflow_id}`);
    expect(body.data).toMatchObject({ workflow_id: 'taskserv-install/local/api-wf/redis', type: 'TaskservInstall', status: 'COMPLETED' });
    expect(body.data.progress.steps.map((s: any) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
  });
});

describe('errors', () => {
  it.each([
    ['malformed JSON', 'POST', '/api/v1/extensions/reload', '{"extension_type": "taskserv",', 400, 'InvalidInput'],
    ['an unknown field', 'POST', '/api/v1/extensions/reload', { extension_type: 'taskserv', name: 'kubernetes', force: true }, 400, 'InvalidInput'],
    ['a wrong JSON type', 'POST', '/api/v1/extensions/reload', { extension_type: 'taskserv', name: 5 }, 400, 'InvalidInput'],
    ['a traversal name', 'POST', '/api/v1/extensions/reload', { extension_type: 'taskserv', name: '../../etc' }, 400, 'InvalidInput'],
    ['a bad type', 'POST', '/api/v1/extensions/reload', { extension_type: 'plugin', name: 'etcd' }, 400, 'InvalidInput'],
    ['an oversized body', 'POST', '/api/v1/workflows/taskserv-install', { name: 'etcd', target: { provider: 'local', server: 'x' }, settings: { blob: 'x'.repeat(100_000) } }, 413, 'InvalidInput'],
    ['a bad version', 'POST', '/api/v1/workflows/taskserv-install', { name: 'etcd', version: 'one.two', target: { provider: 'local', server: 'x' } }, 400, 'InvalidInput'],
    ['an unknown extension', 'POST', '/api/v1/extensions/reload', { extension_type: 'taskserv', name: 'nope' }, 404, 'ExtensionNotFound'],
    ['an unknown extension', 'GET', '/api/v1/extensions/taskserv/nope', undefined, 404, 'ExtensionNotFound'],
    ['an unknown workflow', 'GET', '/api/v1/workflows/taskserv-install/local/none/etcd', undefined, 404, 'WorkflowNotFound'],
    ['an unknown route', 'GET', '/api/v2/anything', undefined, 404, 'NotFound'],
  ])('%s on %s %s is %s %s', async (_what, method, path, body, status, kind) => {
    const response = await call(method, path, body);
    expect(response.status).toBe(status);
    expect(response.body.success).toBe(false);
    expect(response.body.error.kind).toBe(kind);
    expect(typeof response.body.error.message).toBe('string');
  });

  it('409 for a conflicting install', async () => {
    const first = await call('POST', '/api/v1/workflows/taskserv-install', { name: 'slowpoke', target: { provider: 'local', server: 'api-409' }, settings: { install_seconds: 3 } });
    const second = await call('POST', '/api/v1/workflows/taskserv-install', { name: 'slowpoke', version: '1.0.0', target: { provider: 'local', server: 'api-409' } });
    expect(second.status).toBe(409);
    expect(second.body.error.kind).toBe('InstallConflict');
    await w.client.workflow.getHandle(first.body.data.workflow_id).result();
  });

  it('500 for the unexpected, logged', async () => {
    const manager = new ExtensionManager({ extensionsDir: library, cacheDir: tempDir('cache'), nuPath: '/bin/false' });
    const server = new ApiServer({ manager, targets: new Targets(manager, tempDir('targets')), listen: '127.0.0.1:0' });
    const url = await server.start();
    try {
      const response = await fetch(`${url}/api/v1/extensions/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"extension_type":"taskserv","name":"etcd"}' });
      expect(response.status).toBe(500);
      expect(((await response.json()) as any).error.kind).toBe('LoadFailure');
    } finally {
      await server.stop();
      await manager.close();
    }
  });
});

describe('security', () => {
  it('with a token, mutating endpoints need it; reads do not; every mutating call is audited with its caller', async () => {
    const data = tempDir('data');
    const manager = new ExtensionManager({ extensionsDir: library, cacheDir: join(data, 'cache'), auditFile: join(data, 'audit.jsonl') });
    const server = new ApiServer({ manager, targets: new Targets(manager, tempDir('targets')), listen: '127.0.0.1:0', token: 's3cret' });
    const url = await server.start();
    const reload = (headers: Record<string, string>) =>
      fetch(`${url}/api/v1/extensions/reload`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"extension_type":"taskserv","name":"etcd"}' });
    try {
      expect((await reload({})).status).toBe(401);
      expect((await reload({ authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await fetch(`${url}/api/v1/extensions/cache`, { method: 'DELETE' })).status).toBe(401);
      expect((await reload({ authorization: 'Bearer s3cret' })).status).toBe(200);
      expect((await fetch(`${url}/api/v1/extensions/loaded`)).status).toBe(200);
    } finally {
      await server.stop();
      await manager.close();
    }
    const { readFileSync } = await import('node:fs');
    const audit = readFileSync(join(data, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.operation === 'api');
    expect(audit.map((l) => l.status)).toEqual([401, 401, 401, 200]);
    expect(audit.every((l) => l.caller === '127.0.0.1')).toBe(true);
  });

  it('refuses to listen on a non-loopback address without a token', async () => {
    const manager = new ExtensionManager({ extensionsDir: library, cacheDir: tempDir('cache') });
    try {
      await expect(new ApiServer({ manager, targets: new Targets(manager, tempDir('targets')), listen: '0.0.0.0:0' }).start()).rejects.toThrow(/refusing to serve the API on 0.0.0.0 without/);
    } finally {
      await manager.close();
    }
  });
});

describe('prvng extensions', () => {
  it('loaded | reload | clear talk to the worker API', async () => {
    const env = { PRVNG_API_LISTEN: api.replace('http://', ''), PRVNG_DATA_DIR: tempDir('cli') };
    const prvng = (...args: string[]) => execa(process.execPath, [join(PACKAGE_ROOT, 'bin/prvng.js'), ...args], { env, reject: false });
    await w.plugin.manager.loadExtension('taskserv', 'postgresql');
    const loaded = await prvng('extensions', 'loaded', '-o', 'json');
    expect(JSON.parse(loaded.stdout).data.map((e: any) => e.metadata.name)).toContain('postgresql');
    const reload = await prvng('extensions', 'reload', 'taskserv', 'postgresql');
    expect(reload.stdout.trim()).toBe('Extension postgresql reloaded');
    expect((await prvng('extensions', 'reload', 'taskserv', 'nope', '-o', 'json')).exitCode).toBe(2);
    expect((await prvng('extensions', 'clear')).exitCode).toBe(0);
    expect(w.plugin.manager.listLoadedExtensions()).toEqual([]);
  });
});
