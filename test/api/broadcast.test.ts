import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundledLibraryWith } from '../support/library.js';
import { WorkerProcess } from '../support/worker-process.js';

/** Two `prvng worker` processes on one task queue, each with its own cache and API. */
const taskQueue = `broadcast-${randomUUID().slice(0, 8)}`;
const extensionsDir = bundledLibraryWith();
const ports = [19000 + Math.floor(Math.random() * 500), 19600 + Math.floor(Math.random() * 500)];
const workers = ports.map((port) => new WorkerProcess({ taskQueue, extensionsDir, api: `127.0.0.1:${port}`, autoLoad: true }));
const api = (i: number) => `http://127.0.0.1:${ports[i]}`;

beforeAll(async () => {
  await Promise.all(workers.map((w) => w.start()));
  for (const i of [0, 1]) {
    await vi.waitFor(
      async () => {
        const health = (await (await fetch(`${api(i)}/health`)).json()) as { data: { auto_load: string } };
        if (health.data.auto_load !== 'done') throw new Error(`worker ${i} is still preloading`);
      },
      { timeout: 30_000, interval: 200 },
    );
  }
}, 120_000);
afterAll(() => Promise.all(workers.map((w) => w.stop())));

async function loadedAt(i: number, name: string): Promise<string> {
  const body = (await (await fetch(`${api(i)}/api/v1/extensions/loaded`)).json()) as { data: { metadata: { name: string }; loaded_at: string }[] };
  return body.data.find((e) => e.metadata.name === name)!.loaded_at;
}

async function reloads(i: number): Promise<number> {
  return ((await (await fetch(`${api(i)}/api/v1/metrics`)).json()) as { data: { reloads: number } }).data.reloads;
}

describe('a reload reaches every worker on the task queue', () => {
  it('reloads in the worker that answered and in the other one', async () => {
    const before = [await loadedAt(0, 'kubernetes'), await loadedAt(1, 'kubernetes')];
    const response = await fetch(`${api(0)}/api/v1/extensions/reload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension_type: 'taskserv', name: 'kubernetes' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, data: 'Extension kubernetes reloaded' });
    expect(response.headers.get('x-prvng-workers')).toBe('1/1 other workers');
    expect(await reloads(0)).toBe(1);
    expect(await reloads(1)).toBe(1);
    expect((await loadedAt(0, 'kubernetes')) > before[0]!).toBe(true);
    expect((await loadedAt(1, 'kubernetes')) > before[1]!).toBe(true);
  });

  it('a cache clear reaches both too', async () => {
    const response = await fetch(`${api(1)}/api/v1/extensions/cache`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    for (const i of [0, 1]) {
      const body = (await (await fetch(`${api(i)}/api/v1/extensions/loaded`)).json()) as { data: unknown[] };
      expect(body.data).toEqual([]);
    }
  });
});
