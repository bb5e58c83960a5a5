import { join } from 'node:path';
import semver from 'semver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dependencyStatuses } from '../../src/dependency-status.js';
import { DependencyCycle, DependencyError, ExtensionNotFound, VersionNotFound } from '../../src/errors.js';
import { ExtensionManager } from '../../src/manager.js';
import {
  MemorySource,
  discoveredSource,
  inspectDependencies,
  resolveDependencies,
  type DependencySource,
  type Resolution,
  type ResolveOptions,
  type ResolveRoot,
} from '../../src/resolver.js';
import type { Receipt } from '../../src/targets.js';
import { makeLibrary, tempDir, type FixtureExtension } from '../support/library.js';

/** `{ 'a@1.0.0': ['b', 'c@^1'] }`: an in-memory library of taskservs (`cluster:x@1.0.0` for a cluster). */
function library(spec: Record<string, string[]>): MemorySource {
  return new MemorySource(
    Object.entries(spec).map(([key, dependencies]) => {
      const [typed, version] = key.split('@') as [string, string];
      const [type, name] = typed.includes(':') ? (typed.split(':') as ['cluster', string]) : (['taskserv', typed] as const);
      return { type, name, version, dependencies };
    }),
  );
}

/** The selected version of each package, by name. */
function versions(resolution: Resolution): Record<string, string> {
  return Object.fromEntries(resolution.packages.map((p) => [p.name, p.version]));
}

function resolve(source: DependencySource, root: string | ResolveRoot, options?: ResolveOptions) {
  return resolveDependencies(source, typeof root === 'string' ? { type: 'taskserv', name: root } : root, options);
}

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => expect.unreachable('resolution should fail'),
    (err: unknown) => err as DependencyError & { details: Record<string, unknown> },
  );
}

describe('resolveDependencies', () => {
  it('a diamond: a -> b, c; b, c -> d: d is resolved (and loaded) once, at the highest version both accept', async () => {
    const source = library({
      'a@1.0.0': ['b', 'c'],
      'b@1.0.0': ['d@^1.0.0'],
      'c@1.0.0': ['d@>=1.2.0'],
      'd@1.0.0': [],
      'd@1.5.0': [],
      'd@2.0.0': [],
    });
    const load = vi.spyOn(source, 'loadExtension');
    const resolution = await resolve(source, 'a');
    expect(resolution.root).toEqual({ type: 'Taskserv', name: 'a', version: '1.0.0', dependencies: ['b', 'c'] });
    expect(resolution.packages).toEqual([
      { name: 'b', version: '1.0.0', constraints: [{ range: '*', required_by: 'a@1.0.0' }], dependencies: ['d'] },
      { name: 'c', version: '1.0.0', constraints: [{ range: '*', required_by: 'a@1.0.0' }], dependencies: ['d'] },
      {
        name: 'd',
        version: '1.5.0',
        constraints: [
          { range: '^1.0.0', required_by: 'b@1.0.0' },
          { range: '>=1.2.0', required_by: 'c@1.0.0' },
        ],
        dependencies: [],
      },
    ]);
    expect(resolution.levels).toEqual([['d'], ['b', 'c']]);
    expect(load.mock.calls.filter(([, name]) => name === 'd')).toEqual([['Taskserv', 'd', '1.5.0']]);
  });

  it('chooses the highest version inside every range over a newer one outside them', async () => {
    const source = library({
      'app@1.0.0': ['web', 'db@>=1.0.0 <3.0.0'],
      'web@2.0.0': ['db@^1.2.0'],
      'db@1.1.0': [],
      'db@1.4.0': [],
      'db@1.9.0-rc.1': [], // a prerelease only by exact request
      'db@2.5.0': [],
      'db@3.0.0': [],
    });
    const resolution = await resolve(source, 'app');
    expect(versions(resolution)).toEqual({ db: '1.4.0', web: '2.0.0' });
    expect(resolution.packages.find((p) => p.name === 'db')!.constraints).toEqual([
      { range: '>=1.0.0 <3.0.0', required_by: 'app@1.0.0' },
      { range: '^1.2.0', required_by: 'web@2.0.0' },
    ]);
  });

  it('backtracks: a newer version whose own dependencies conflict loses to an older compatible one', async () => {
    const source = library({
      'root@1.0.0': ['api', 'proxy@^1.0.0'],
      'api@1.0.0': ['proxy@^1.0.0'],
      'api@2.0.0': ['proxy@^2.0.0'], // newest, but needs a proxy the root does not accept
      'proxy@1.3.0': [],
      'proxy@2.1.0': [],
    });
    expect(versions(await resolve(source, 'root'))).toEqual({ api: '1.0.0', proxy: '1.3.0' });
  });

  it('backtracks over a constraint that arrives after its target was chosen', async () => {
    // db is reached at depth 1 (chosen 2.0.0) before lib, at depth 3, asks for ^1.
    const source = library({
      'root@1.0.0': ['db', 'x'],
      'x@1.0.0': ['y'],
      'y@1.0.0': ['lib'],
      'lib@1.0.0': ['db@^1.0.0'],
      'db@1.0.0': [],
      'db@2.0.0': [],
    });
    const resolution = await resolve(source, 'root');
    expect(versions(resolution)).toEqual({ db: '1.0.0', lib: '1.0.0', x: '1.0.0', y: '1.0.0' });
    expect(resolution.levels).toEqual([['db'], ['lib'], ['y'], ['x']]);
  });

  it('skips a newer version whose dependency is missing from the library', async () => {
    const source = library({ 'root@1.0.0': ['agent'], 'agent@1.0.0': [], 'agent@2.0.0': ['ghost'] });
    expect(versions(await resolve(source, 'root'))).toEqual({ agent: '1.0.0' });
  });

  it('a three-node cycle fails with DependencyCycle naming it in order', async () => {
    const source = library({ 'a@1.0.0': ['b'], 'b@1.0.0': ['c'], 'c@1.0.0': ['a'], 'cluster:edge@1.0.0': ['a'] });
    const err = await failure(resolve(source, 'a'));
    expect(err).toBeInstanceOf(DependencyCycle);
    expect(err.message).toBe('dependency cycle: a -> b -> c -> a');
    expect(err.details.cycle).toEqual(['a', 'b', 'c', 'a']);
    // reached from a cluster, the cycle is named from where it is entered
    const fromCluster = await failure(resolve(source, { type: 'cluster', name: 'edge' }));
    expect(fromCluster).toBeInstanceOf(DependencyCycle);
    expect(fromCluster.details.cycle).toEqual(['a', 'b', 'c', 'a']);
  });

  it('a missing dependency and conflicts are reported together in ONE DependencyError', async () => {
    const source = library({
      'kubernetes@1.28.0': ['containerd', 'dns@^1.0.0', 'etcd@>=3.5 <4', 'ghost'],
      'containerd@1.7.13': ['dns@^2.0.0'],
      'dns@1.0.0': [],
      'dns@2.0.0': [],
      'etcd@3.4.27': [],
    });
    const err = await failure(resolve(source, { type: 'taskserv', name: 'kubernetes', version: '1.28.0' }));
    expect(err).toBeInstanceOf(DependencyError);
    const dns = 'dns@^2.0.0 required by containerd@1.7.13 and dns@^1.0.0 required by kubernetes@1.28.0: no version satisfies all of them (available: 2.0.0, 1.0.0)';
    const etcd = 'etcd@>=3.5 <4 required by kubernetes@1.28.0: no version satisfies it (available: 3.4.27)';
    const ghost = 'ghost required by kubernetes@1.28.0: not in the library (available: none)';
    expect(err.message).toBe(`cannot resolve the dependencies of taskserv kubernetes@1.28.0: ${dns}; ${etcd}; ${ghost}`);
    expect(err.details.root).toEqual({ type: 'taskserv', name: 'kubernetes', version: '1.28.0' });
    expect(err.details.problems).toEqual([
      {
        name: 'dns',
        kind: 'conflict',
        constraints: [
          { range: '^2.0.0', required_by: 'containerd@1.7.13' },
          { range: '^1.0.0', required_by: 'kubernetes@1.28.0' },
        ],
        available: ['2.0.0', '1.0.0'],
        locked: null,
        message: dns,
      },
      { name: 'etcd', kind: 'conflict', constraints: [{ range: '>=3.5 <4', required_by: 'kubernetes@1.28.0' }], available: ['3.4.27'], locked: null, message: etcd },
      { name: 'ghost', kind: 'missing', constraints: [{ range: '*', required_by: 'kubernetes@1.28.0' }], available: [], locked: null, message: ghost },
    ]);
    // the same, as a report: what resolved and what did not
    const report = await inspectDependencies(source, { type: 'taskserv', name: 'kubernetes' });
    expect(report.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['containerd@1.7.13']);
    expect(report.problems.map((p) => `${p.name}:${p.kind}`)).toEqual(['dns:conflict', 'etcd:conflict', 'ghost:missing']);
    expect(report.cycle).toBeNull();
  });

  it('a locked version wins over latest while it satisfies the constraints; upgrade takes latest', async () => {
    const source = library({ 'app@1.0.0': ['etcd@^3.0.0'], 'app@1.1.0': ['etcd@^3.0.0'], 'etcd@3.4.0': [], 'etcd@3.5.0': [] });
    expect(versions(await resolve(source, 'app'))).toEqual({ etcd: '3.5.0' });
    const locked = { app: '1.0.0', etcd: '3.4.0' };
    const pinned = await resolve(source, 'app', { locked });
    expect(pinned.root.version).toBe('1.0.0'); // the root too, when no version is asked for
    expect(versions(pinned)).toEqual({ etcd: '3.4.0' });
    const upgraded = await resolve(source, 'app', { locked, upgrade: true });
    expect(upgraded.root.version).toBe('1.1.0');
    expect(versions(upgraded)).toEqual({ etcd: '3.5.0' });
  });

  it('a locked version that no longer satisfies a new constraint fails without upgrade and moves with it', async () => {
    const source = library({ 'app@2.0.0': ['etcd@>=3.5.0'], 'etcd@3.4.0': [], 'etcd@3.5.0': [], 'etcd@3.6.0': [] });
    const locked = { etcd: '3.4.0' };
    const err = await failure(resolve(source, 'app', { locked }));
    expect(err).toBeInstanceOf(DependencyError);
    expect(err.message).toBe(
      'cannot resolve the dependencies of taskserv app@2.0.0: etcd@>=3.5.0 required by app@2.0.0: locked at 3.4.0, which does not satisfy it; upgrade to select 3.6.0 (available: 3.6.0, 3.5.0, 3.4.0)',
    );
    expect(err.details.problems).toMatchObject([{ name: 'etcd', kind: 'locked', locked: '3.4.0' }]);
    expect(versions(await resolve(source, 'app', { locked, upgrade: true }))).toEqual({ etcd: '3.6.0' });
  });

  it('levels: what depends on nothing first, each level after everything it needs, sorted by name', async () => {
    const source = library({
      'cluster:web@1.0.0': ['nginx', 'app'],
      'nginx@1.25.0': [],
      'app@2.0.0': ['db', 'cache'],
      'db@15.0.0': ['storage'],
      'cache@7.2.0': ['storage'],
      'storage@1.0.0': [],
      'metrics@1.0.0': ['storage'],
    });
    const resolution = await resolve(source, { type: 'Cluster', name: 'web' });
    expect(resolution.root).toEqual({ type: 'Cluster', name: 'web', version: '1.0.0', dependencies: ['app', 'nginx'] });
    expect(resolution.levels).toEqual([['nginx', 'storage'], ['cache', 'db'], ['app']]);
    expect(resolution.packages.map((p) => p.name)).toEqual(['app', 'cache', 'db', 'nginx', 'storage']); // not metrics
  });

  it('agrees with brute force on 250 random libraries: a resolution exactly when one exists, valid, no package can move up alone', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const RANGES = ['*', '^1.0.0', '^2.0.0', '>=1.1.0', '<2.0.0', '1.0.0', '>=1.1.0 <3.0.0', '~2.1.0'];
    const VERSIONS = ['1.0.0', '1.1.0', '2.0.0', '2.1.0', '3.0.0'];
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const fits = (deps: readonly string[], chosen: (name: string) => string | null | undefined) =>
      deps.every((d) => {
        const [name, range] = d.split('@') as [string, string];
        const v = chosen(name);
        return v != null && semver.satisfies(v, range);
      });
    let solvable = 0;
    for (let i = 0; i < 250; i++) {
      const lib: Record<string, Record<string, string[]>> = {};
      for (const n of names) {
        if (random() < 0.02) continue; // not in the library
        const versions = VERSIONS.filter(() => random() < 0.8);
        lib[n] = Object.fromEntries((versions.length ? versions : ['1.0.0']).map((v) => [v, names.filter((d) => d > n && random() < 0.45).map((d) => `${d}@${pick(RANGES)}`)]));
      }
      const rootDeps = names.filter(() => random() < 0.4).map((d) => `${d}@${pick(RANGES)}`);
      const source = new MemorySource([{ name: 'root', version: '1.0.0', dependencies: rootDeps }]);
      for (const [name, versions] of Object.entries(lib)) for (const [version, dependencies] of Object.entries(versions)) source.add({ name, version, dependencies });

      // every assignment of a version (or none) to each name: is there a closed, consistent one?
      const assignment: (string | null)[] = [];
      const closed = () => fits(rootDeps, (n) => assignment[names.indexOf(n)]) && names.every((n, k) => assignment[k] == null || fits(lib[n]![assignment[k]!]!, (d) => assignment[names.indexOf(d)]));
      const exists = (k: number): boolean => (k === names.length ? closed() : [null, ...Object.keys(lib[names[k]!] ?? {})].some((v) => ((assignment[k] = v), exists(k + 1))));

      const report = await inspectDependencies(source, { type: 'taskserv', name: 'root' });
      expect(report.exhausted).toBe(false);
      expect(report.problems.length === 0, JSON.stringify({ rootDeps, lib })).toBe(exists(0));
      if (report.problems.length) continue;
      solvable++;
      const chosen = new Map(report.packages.map((p) => [p.name, p.version]));
      expect(fits(rootDeps, (n) => chosen.get(n))).toBe(true);
      for (const p of report.packages) {
        expect(fits(lib[p.name]![p.version]!, (n) => chosen.get(n))).toBe(true);
        const higher = Object.keys(lib[p.name]!).filter(
          (v) => semver.gt(v, p.version) && p.constraints.every((c) => semver.satisfies(v, c.range)) && fits(lib[p.name]![v]!, (n) => chosen.get(n)),
        );
        expect(higher, `${p.name}@${p.version} in ${JSON.stringify({ rootDeps, lib })}`).toEqual([]);
      }
    }
    expect(solvable).toBeGreaterThan(50);
  });

  it('root errors keep their own kinds', async () => {
    const source = library({ 'a@1.0.0': [] });
    await expect(resolve(source, 'nope')).rejects.toBeInstanceOf(ExtensionNotFound);
    await expect(resolve(source, { type: 'taskserv', name: 'a', version: '^2' })).rejects.toBeInstanceOf(VersionNotFound);
  });
});

describe('dependencyStatuses', () => {
  const receipt = (name: string, version: string): Receipt => ({
    name,
    version,
    content_hash: '0'.repeat(64),
    workflow_id: null,
    run_id: null,
    files: [],
    installed_at: '2026-01-01T00:00:00.000Z',
    verified_at: null,
  });

  it('ok / missing / wrong-version against the library, installed / not-installed / wrong-version against a target', async () => {
    const source = library({
      'kubernetes@1.28.0': ['containerd', 'coredns@^1.11.0', 'etcd@>=3.5.0 <4.0.0', 'ghost', 'pause@^9'],
      'containerd@1.7.13': [],
      'coredns@1.11.1': [],
      'etcd@3.5.12': [],
      'pause@3.9.0': [],
    });
    const report = await inspectDependencies(source, { type: 'taskserv', name: 'kubernetes' });
    const words = (rows: { name: string; status: string }[]) => Object.fromEntries(rows.map((r) => [r.name, r.status]));
    expect(words(dependencyStatuses(report, source))).toEqual({
      containerd: 'ok',
      coredns: 'ok',
      etcd: 'ok',
      ghost: 'missing',
      pause: 'wrong-version',
    });
    const target = [receipt('containerd', '1.7.13'), receipt('etcd', '3.4.27'), receipt('pause', '3.9.0')];
    const rows = dependencyStatuses(report, source, target);
    expect(words(rows)).toEqual({
      containerd: 'installed',
      coredns: 'not-installed',
      etcd: 'wrong-version',
      ghost: 'missing',
      pause: 'wrong-version',
    });
    expect(rows.find((r) => r.name === 'etcd')).toMatchObject({
      version: '3.5.12',
      installed: '3.4.27',
      available: ['3.5.12'],
      detail: 'existing etcd@3.4.27 is incompatible with >=3.5.0 <4.0.0 required by kubernetes@1.28.0',
    });
    expect(rows.find((r) => r.name === 'pause')!.detail).toBe('pause@^9 required by kubernetes@1.28.0: no version satisfies it (available: 3.9.0)');
  });
});

describe('over a real library through Nushell', () => {
  const managers: ExtensionManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });

  const LIBRARY: FixtureExtension[] = [
    { type: 'cluster', name: 'k8s', version: '1.0.0', dependencies: ['kubernetes@~1.28.0', 'cni'] },
    { name: 'kubernetes', version: '1.28.0', dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'] },
    { name: 'kubernetes', version: '1.29.2', dependencies: ['containerd', 'etcd@>=3.5.0 <4.0.0'] },
    { name: 'cni', version: '1.4.0', dependencies: ['containerd@^1.7.0'] },
    { name: 'containerd', version: '1.6.28' },
    { name: 'containerd', version: '1.7.13' },
    { name: 'etcd', version: '3.4.27' },
    { name: 'etcd', version: '3.5.12' },
    { name: 'etcd', version: '4.0.0-alpha.1' },
  ];

  it('the ExtensionManager is a source as is, and discovery gives the same resolution in one Nushell call per type', async () => {
    const data = tempDir('data');
    const m = new ExtensionManager({ extensionsDir: makeLibrary(LIBRARY), cacheDir: join(data, 'cache') });
    managers.push(m);
    const root = { type: 'cluster', name: 'k8s' };
    const direct = await resolveDependencies(m, root);
    expect(direct.root).toEqual({ type: 'Cluster', name: 'k8s', version: '1.0.0', dependencies: ['cni', 'kubernetes'] });
    expect(versions(direct)).toEqual({ cni: '1.4.0', containerd: '1.7.13', etcd: '3.5.12', kubernetes: '1.28.0' });
    expect(direct.levels).toEqual([['containerd', 'etcd'], ['cni', 'kubernetes']]);

    const run = vi.spyOn(m.runner, 'run');
    const source = await discoveredSource(m, 'cluster');
    expect(run).toHaveBeenCalledTimes(2); // taskservs, clusters
    expect(await resolveDependencies(source, root)).toEqual(direct);
  });
});
