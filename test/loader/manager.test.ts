import { appendFileSync, existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExtensionNotFound, InvalidInput, InvalidMetadata, LoadFailure, VersionNotFound } from '../../src/errors.js';
import { ExtensionManager, type ExtensionManagerOptions } from '../../src/manager.js';
import { makeLibrary, tempDir, type FixtureExtension } from '../support/library.js';

const LIBRARY: FixtureExtension[] = [
  { name: 'kubernetes', version: '1.28.0', dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'], description: 'Kubernetes container orchestrator' },
  { name: 'kubernetes', version: '1.29.2', dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'] },
  { name: 'kubernetes', version: '1.30.0-rc.1' },
  { name: 'etcd', version: '3.4.27' },
  { name: 'etcd', version: '3.5.12' },
  { name: 'containerd', version: '1.7.13' },
  { type: 'provider', name: 'aws', version: '2.0.0', main: 'def main [] {}' },
  { type: 'cluster', name: 'buildkit', version: '1.0.0', dependencies: ['containerd'] },
];

const managers: ExtensionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

function manager(extensionsDir = makeLibrary(LIBRARY), options: Partial<ExtensionManagerOptions> = {}) {
  const data = tempDir('data');
  const m = new ExtensionManager({ extensionsDir, cacheDir: join(data, 'cache'), auditFile: join(data, 'audit.jsonl'), ...options });
  managers.push(m);
  return m;
}

async function auditLines(m: ExtensionManager) {
  await m.close();
  managers.splice(managers.indexOf(m), 1);
  return readFileSync(m.options.auditFile!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('ExtensionManager over real Nushell', () => {
  it('loads an exact version with the reference metadata shape', async () => {
    const m = manager();
    const ext = await m.loadExtension('Taskserv', 'kubernetes', '1.28.0');
    expect(ext.metadata).toEqual({
      name: 'kubernetes',
      version: '1.28.0',
      description: 'Kubernetes container orchestrator',
      extension_type: 'Taskserv',
      dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'],
      author: 'tests',
      repository: null,
    });
    expect(ext.path).toMatch(/^prvng-test-lib-\w+\/taskservs\/kubernetes$/);
    expect(new Date(ext.loaded_at).toISOString()).toBe(ext.loaded_at);
    expect(ext.content_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('latest is the highest stable version; ranges resolve before the cache key is made', async () => {
    const m = manager();
    expect((await m.loadExtension('taskserv', 'kubernetes')).metadata.version).toBe('1.29.2');
    expect((await m.loadExtension('taskserv', 'etcd', '~3.4.0')).metadata.version).toBe('3.4.27');
    expect((await m.loadExtension('taskserv', 'kubernetes', '1.30.0-rc.1')).metadata.version).toBe('1.30.0-rc.1');
    // the same concrete version through another request is a cache hit
    await m.loadExtension('taskserv', 'kubernetes', '1.29.2');
    expect(m.metrics()).toMatchObject({ total_extension_loads: 4, cache_hits: 1, cache_misses: 3 });
    expect(m.listLoadedExtensions().map((e) => `${e.metadata.name}@${e.metadata.version}`).sort()).toEqual(['etcd@3.4.27', 'kubernetes@1.29.2', 'kubernetes@1.30.0-rc.1']);
  });

  it('serves the second load from memory: same object, one Nushell call', async () => {
    const m = manager();
    const run = vi.spyOn(m.runner, 'run');
    const a = await m.loadExtension('provider', 'aws', '2.0.0');
    const b = await m.loadExtension('provider', 'aws', '2.0.0');
    expect(b).toBe(a);
    expect(run).toHaveBeenCalledTimes(1);
    expect(m.metrics().cache_hit_ratio).toBe(0.5);
  });

  it('concurrent loads of one key share one Nushell call', async () => {
    const m = manager();
    const run = vi.spyOn(m.runner, 'run');
    const all = await Promise.all(Array.from({ length: 10 }, () => m.loadExtension('taskserv', 'etcd', '3.5.12')));
    expect(new Set(all).size).toBe(1);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used entry when full, and counts it', async () => {
    const m = manager(undefined, { cacheSize: 2 });
    await m.loadExtension('taskserv', 'etcd', '3.4.27');
    await m.loadExtension('taskserv', 'etcd', '3.5.12');
    await m.loadExtension('taskserv', 'etcd', '3.4.27'); // 3.5.12 is now the least recently used
    await m.loadExtension('taskserv', 'containerd');
    expect(m.cachedVersions('taskserv', 'etcd')).toEqual(['3.4.27']);
    expect(m.isExtensionLoaded('taskserv', 'containerd')).toBe(true);
    expect(m.metrics().evictions).toBe(1);
    const audit = await auditLines(m);
    expect(audit.filter((l) => l.operation === 'evict').map((l) => l.key)).toEqual(['taskserv:etcd:3.5.12']);
  });

  it('reload bypasses the cache; clear empties it; is-loaded reflects both', async () => {
    const m = manager();
    const first = await m.loadExtension('cluster', 'buildkit', '1.0.0');
    expect(m.isExtensionLoaded('cluster', 'buildkit')).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    const again = await m.reloadExtension('cluster', 'buildkit');
    expect(again).not.toBe(first);
    expect(again.loaded_at > first.loaded_at).toBe(true);
    expect(m.metrics().reloads).toBe(1);
    m.clearCache();
    expect(m.isExtensionLoaded('cluster', 'buildkit')).toBe(false);
    expect(m.listLoadedExtensions()).toEqual([]);
  });

  it('hot reload: a changed file is reloaded on the next access, an untouched one is not', async () => {
    const lib = makeLibrary(LIBRARY);
    const m = manager(lib);
    const before = await m.loadExtension('taskserv', 'containerd', '1.7.13');
    const main = join(lib, 'taskservs/containerd/1.7.13/main.nu');

    utimesSync(main, new Date(), new Date()); // touched, same content
    await new Promise((r) => setTimeout(r, 200));
    expect(await m.loadExtension('taskserv', 'containerd', '1.7.13')).toBe(before);
    expect(m.metrics().hot_reloads).toBe(0);

    appendFileSync(main, '\n# changed\n');
    await vi.waitFor(async () => {
      const after = await m.loadExtension('taskserv', 'containerd', '1.7.13');
      expect(after.content_hash).not.toBe(before.content_hash);
    });
    expect(m.metrics().hot_reloads).toBe(1);
    expect(m.listLoadedExtensions()).toHaveLength(1); // the rest of the cache is kept
  });

  it('keeps a content-addressed snapshot that later library edits do not change', async () => {
    const lib = makeLibrary(LIBRARY);
    const m = manager(lib);
    const ext = await m.loadExtension('taskserv', 'etcd', '3.5.12');
    expect(ext.snapshot_dir.endsWith(ext.content_hash)).toBe(true);
    const original = readFileSync(join(ext.snapshot_dir, 'main.nu'), 'utf8');
    writeFileSync(join(lib, 'taskservs/etcd/3.5.12/main.nu'), 'def main [] {}\n');
    expect(readFileSync(join(ext.snapshot_dir, 'main.nu'), 'utf8')).toBe(original);
    expect(readdirSync(join(ext.snapshot_dir))).toEqual(['extension.toml', 'main.nu']);
  });

  it('audits every load, reload and clear as one JSON line', async () => {
    const m = manager();
    await m.loadExtension('taskserv', 'etcd');
    await m.loadExtension('taskserv', 'etcd');
    await m.reloadExtension('taskserv', 'etcd');
    await m.loadExtension('taskserv', 'nope').catch(() => undefined);
    m.clearCache();
    const lines = await auditLines(m);
    expect(lines.map((l) => `${l.operation}:${l.outcome}`)).toEqual(['load:miss', 'load:hit', 'reload:ok', 'load:error', 'clear:ok']);
    expect(lines[0]).toMatchObject({ key: 'taskserv:etcd:3.5.12', content_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(typeof lines[0].duration_ms).toBe('number');
    expect(lines[3].error).toMatch(/^ExtensionNotFound/);
  });

  it('records cold-load times', async () => {
    const m = manager();
    await m.loadExtension('taskserv', 'etcd');
    await m.loadExtension('taskserv', 'containerd');
    const { cold_load_ms } = m.metrics();
    expect(cold_load_ms.count).toBe(2);
    expect(cold_load_ms.p50).toBeGreaterThan(0);
  });
});

describe('error kinds', () => {
  it('ExtensionNotFound lists the names that exist for the type', async () => {
    const err = await manager().loadExtension('taskserv', 'kubernetis').catch((e) => e);
    expect(err).toBeInstanceOf(ExtensionNotFound);
    expect(err.message).toContain('available: containerd, etcd, kubernetes');
    expect(err.details.available).toEqual(['containerd', 'etcd', 'kubernetes']);
  });

  it('VersionNotFound lists the request and the available versions', async () => {
    const err = await manager().loadExtension('taskserv', 'etcd', '>=4').catch((e) => e);
    expect(err).toBeInstanceOf(VersionNotFound);
    expect(err.message).toBe('taskserv "etcd" has no version >=4; available: 3.5.12, 3.4.27');
  });

  it.each([
    ['malformed TOML', 'name = "x\nbroken', '(toml)', /TOML parse error at line 2/],
    ['a missing required field', 'name = "x"\nversion = "1.0.0"\n', 'description', /is required/],
    ['a name that does not match the folder', 'name = "y"\nversion = "1.0.0"\ndescription = "d"\n', 'name', /but the folder is "x"/],
    ['a version that does not match the folder', 'name = "x"\nversion = "1.0.1"\ndescription = "d"\n', 'version', /but the folder is "1.0.0"/],
    ['a bad dependency', 'name = "x"\nversion = "1.0.0"\ndescription = "d"\ndependencies = ["etcd@>>3"]\n', 'dependencies.0', /name@<semver range>/],
    ['a type that disagrees with the folder', 'name = "x"\nversion = "1.0.0"\ndescription = "d"\ntype = "provider"\n', 'type', /taskservs folder/],
  ])('InvalidMetadata for %s names the file and the field', async (_what, manifest, field, message) => {
    const lib = makeLibrary([{ name: 'x', version: '1.0.0', manifest }]);
    const err = await manager(lib).loadExtension('taskserv', 'x').catch((e) => e);
    expect(err).toBeInstanceOf(InvalidMetadata);
    expect(err.details).toEqual({ file: join(lib, 'taskservs/x/1.0.0/extension.toml'), field });
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(join(lib, 'taskservs/x/1.0.0/extension.toml'))).toBe(true);
  });

  it('InvalidInput: a hostile name executes nothing and touches nothing', async () => {
    const m = manager();
    const run = vi.spyOn(m.runner, 'run');
    const canary = join(tempDir('canary'), 'pwned');
    for (const name of ['../../etc', `x\n$(touch ${canary})`, `x; touch ${canary}`, 'a'.repeat(10_000)]) {
      await expect(m.loadExtension('taskserv', name)).rejects.toBeInstanceOf(InvalidInput);
    }
    await expect(m.loadExtension('plugin', 'etcd')).rejects.toBeInstanceOf(InvalidInput);
    expect(run).not.toHaveBeenCalled();
    expect(existsSync(canary)).toBe(false);
    expect(m.metrics().cached_entries).toBe(0);
  });

  it('LoadFailure names the command, exit code and stderr tail', async () => {
    const script = join(tempDir('prov'), 'provisioning.nu');
    writeFileSync(script, 'def main [] {}\ndef "main module load" [] { print -e "disk on fire"; exit 3 }\n');
    const err = await manager(undefined, { provisioningPath: script }).loadExtension('taskserv', 'etcd').catch((e) => e);
    expect(err).toBeInstanceOf(LoadFailure);
    expect(err.details).toMatchObject({ exit_code: 3, command: expect.stringContaining('module load') });
    expect(err.details.stderr_tail).toContain('disk on fire');
  });

  it('LoadFailure when the nu binary is missing', async () => {
    const err = await manager(undefined, { nuPath: '/nonexistent/nu' }).loadExtension('taskserv', 'etcd').catch((e) => e);
    expect(err).toBeInstanceOf(LoadFailure);
  });
});

describe('discovery', () => {
  it('is one Nushell call per type and reports a broken manifest as its own entry', async () => {
    const lib = makeLibrary([...LIBRARY, { name: 'broken', version: '0.1.0', manifest: 'name = "broken' }]);
    const m = manager(lib);
    const run = vi.spyOn(m.runner, 'run');
    const found = await m.discover('taskserv');
    expect(run).toHaveBeenCalledTimes(1);
    expect(found).toHaveLength(7);
    const broken = found.find((e) => !e.ok);
    expect(broken).toMatchObject({ ok: false, name: 'broken', error: { kind: 'InvalidMetadata', field: '(toml)' } });
    expect(found.filter((e) => e.ok)).toHaveLength(6);
    expect(await m.discover('taskserv', 'etcd')).toHaveLength(2);
  });
});
