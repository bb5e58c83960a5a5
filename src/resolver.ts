import semver from 'semver';
import type { DiscoveredExtension } from './discovery.js';
import { DependencyCycle, DependencyError, ExtensionNotFound, InvalidMetadata } from './errors.js';
import { parseExtensionType, parseName, parseVersionRequest } from './input.js';
import { parseDependency } from './manifest.js';
import type { ExtensionType } from './types.js';
import { resolveVersion, sortVersions } from './versions.js';

/**
 * Full dependency resolution (DESIGN.md sections 3 and 7): a taskserv or a cluster
 * resolves to its transitive set of taskservs, each at the highest version that
 * satisfies every constraint on it, with topological levels for parallel installs.
 */

/**
 * Where versions and dependencies come from. `ExtensionManager` satisfies it as is
 * (one Nushell load per version read, cached in its LRU); `discoveredSource()` reads a
 * whole library with one Nushell call; `MemorySource` serves tests and benchmarks.
 */
export interface DependencySource {
  /** Versions of an extension, highest first. `[]` or `ExtensionNotFound` when it does not exist. */
  availableVersions(type: ExtensionType, name: string): readonly string[] | Promise<readonly string[]>;
  /** The extension at an exact version; only `metadata.dependencies` is read. */
  loadExtension(type: ExtensionType, name: string, version: string): Promise<{ metadata: { dependencies: readonly string[] } }>;
}

/** What to resolve: a taskserv or a cluster (a cluster's dependencies are the taskservs it installs). */
export interface ResolveRoot {
  type: ExtensionType | string;
  name: string;
  /** Exact version or range; latest stable (or the locked one for a taskserv) when omitted. */
  version?: string;
}

export interface ResolveOptions {
  /** A previous selection (a lock file): it wins over "latest" while it satisfies the constraints. */
  locked?: Readonly<Record<string, string>>;
  /** Ignore `locked` and take the highest satisfying versions. */
  upgrade?: boolean;
  /** Search budget (decisions tried) before the best attempt so far is reported. Default 50 000. */
  maxSteps?: number;
}

export interface Constraint {
  /** The semver range; `*` for a bare name. */
  range: string;
  /** `name@version` of the extension that declared it. */
  required_by: string;
}

export interface ResolvedPackage {
  name: string;
  version: string;
  /** Every constraint on it in the resolution (what chose this version). */
  constraints: Constraint[];
  /** Names of its direct dependencies, sorted. */
  dependencies: string[];
}

export interface ResolvedRoot {
  type: ExtensionType;
  name: string;
  version: string;
  /** Names of its direct dependencies, sorted. */
  dependencies: string[];
}

export interface Resolution {
  root: ResolvedRoot;
  /** The transitive dependencies (not the root), sorted by name. */
  packages: ResolvedPackage[];
  /** Topological levels of `packages`: level 0 depends on nothing; a level can install in parallel. */
  levels: string[][];
}

export type DependencyProblemKind = 'missing' | 'conflict' | 'locked';

/** One reason a resolution fails, with everything a person needs to fix it. */
export interface DependencyProblem {
  name: string;
  /** `missing`: not in the library; `conflict`: no version satisfies every constraint; `locked`: the locked version does not. */
  kind: DependencyProblemKind;
  constraints: Constraint[];
  /** Versions in the library, highest first. */
  available: string[];
  locked: string | null;
  message: string;
}

/** A resolution that may be incomplete: what `prvng deps check` and a graph of a broken cluster show. */
export interface DependencyReport extends Resolution {
  /** Dependencies that could not be resolved, sorted by name; empty when the resolution succeeded. */
  problems: DependencyProblem[];
  /** The first dependency cycle found (`['a', 'b', 'c', 'a']`), or null. */
  cycle: string[] | null;
  /** The search budget ran out: `problems` are those of the best attempt found. */
  exhausted: boolean;
}

/**
 * Resolve the full transitive set of a root's dependencies. Throws `DependencyError`
 * listing every missing or unsatisfiable dependency at once, `DependencyCycle` for a
 * cycle, and `ExtensionNotFound` / `VersionNotFound` for the root itself.
 */
export async function resolveDependencies(source: DependencySource, root: ResolveRoot, options: ResolveOptions = {}): Promise<Resolution> {
  const report = await inspectDependencies(source, root, options);
  const what = `${report.root.type.toLowerCase()} ${report.root.name}@${report.root.version}`;
  if (report.problems.length) {
    const message = `cannot resolve the dependencies of ${what}: ${report.problems.map((p) => p.message).join('; ')}`;
    throw new DependencyError(message, {
      root: { type: report.root.type.toLowerCase(), name: report.root.name, version: report.root.version },
      problems: report.problems,
      ...(report.exhausted ? { exhausted: true } : {}),
    });
  }
  if (report.cycle) {
    throw new DependencyCycle(`dependency cycle: ${report.cycle.join(' -> ')}`, { cycle: report.cycle });
  }
  return { root: report.root, packages: report.packages, levels: report.levels };
}

/** As `resolveDependencies`, but dependency problems and cycles are reported, not thrown. */
export async function inspectDependencies(source: DependencySource, root: ResolveRoot, options: ResolveOptions = {}): Promise<DependencyReport> {
  const type = parseExtensionType(root.type);
  const name = parseName(root.name);
  const request = parseVersionRequest(root.version);
  const rootVersions = sortVersions(await source.availableVersions(type, name));
  const what = `${type.toLowerCase()} "${name}"`;
  if (rootVersions.length === 0) {
    throw new ExtensionNotFound(`${what} not found`, { type: type.toLowerCase(), name, available: [] });
  }
  const locked = options.upgrade ? undefined : options.locked?.[name];
  const lockApplies = type === 'Taskserv' && request === undefined && locked !== undefined;
  const version = resolveVersion(rootVersions, lockApplies ? locked : request, what);
  const metadata = (await source.loadExtension(type, name, version)).metadata;
  const search = new Search(source, options);
  const deps = metadata.dependencies.map((d) => parseDep(d, name, version));
  const key = type === 'Taskserv' ? name : `${type.toLowerCase()}:${name}`;
  return search.run({ type, name, version, key, versions: rootVersions }, deps);
}

// ---------------------------------------------------------------------------------------
// The search: depth-first over decisions in breadth-first order (closest to the root
// first, then by name), each name's candidates highest first (a locked version alone),
// undone on backtrack. Candidates whose own dependencies immediately add a problem are
// tried after the others. A name with no candidate is recorded as a problem rather than a
// dead end, so the first complete attempt already lists every problem at once; the search
// then continues (branch and bound) only for attempts with fewer problems and stops at the
// first with none. Each attempt returns the decisions its problems depend on; a decision
// not among them has its other candidates skipped (conflict-directed backjumping), and a
// requirer whose every candidate is doomed (needs something missing or unsatisfiable in
// any context) passes the blame to its own requirers, so a failure deep in the graph does
// not make the search try every combination above it.
// ---------------------------------------------------------------------------------------

interface Dep {
  name: string;
  range: string;
  test: VersionTest;
}

interface ActiveConstraint {
  range: string;
  test: VersionTest;
  required_by: string;
  /** The decision (name) that added it. */
  by: string;
  depth: number;
  /** It was added to an already-decided name whose version it rejects: a problem to undo. */
  violated: boolean;
}

interface Selection {
  /** null: no candidate, recorded as a problem. */
  version: string | null;
  deps: Dep[];
  depth: number;
}

interface RootRef {
  type: ExtensionType;
  name: string;
  version: string;
  /** The name for a taskserv (dependencies can reach it: a cycle); `cluster:<name>` otherwise. */
  key: string;
  versions: string[];
}

interface Attempt {
  selected: Map<string, Selection>;
  constraints: Map<string, Constraint[]>;
  problems: string[];
}

type VersionTest = (version: string) => boolean;

/** Ranges and versions parsed once: a resolution tests the same few strings thousands of times. */
const RANGES = new Map<string, VersionTest>();
const VERSIONS = new Map<string, semver.SemVer | null>();

function parsedVersion(version: string): semver.SemVer | null {
  let v = VERSIONS.get(version);
  if (v === undefined) {
    if (VERSIONS.size > 100_000) VERSIONS.clear();
    VERSIONS.set(version, (v = semver.parse(version)));
  }
  return v;
}

/** `sortVersions` with the parse cache: valid versions, highest first. */
function highestFirst(versions: Iterable<string>): string[] {
  return [...versions]
    .filter((v) => parsedVersion(v) !== null)
    .sort((a, b) => parsedVersion(b)!.compare(parsedVersion(a)!));
}

function rangeOf(range: string): VersionTest {
  let test = RANGES.get(range);
  if (!test) {
    const parsed = new semver.Range(range);
    test = (version) => {
      const v = parsedVersion(version);
      return v !== null && parsed.test(v);
    };
    if (RANGES.size > 10_000) RANGES.clear();
    RANGES.set(range, test);
  }
  return test;
}

function parseDep(raw: string, name: string, version: string): Dep {
  const spec = parseDependency(raw);
  if (!spec) {
    throw new InvalidMetadata(`${name}@${version}: dependency "${raw}" must be "name" or "name@<semver range>"`, {
      name,
      version,
      field: 'dependencies',
    });
  }
  return { name: spec.name, range: spec.range, test: rangeOf(spec.range) };
}

class Search {
  private readonly versions = new Map<string, readonly string[]>();
  private readonly depsCache = new Map<string, Dep[]>();
  private readonly doom = new Map<string, boolean | 'busy'>();
  private rootKey = '';
  private readonly selected = new Map<string, Selection>();
  private readonly constraints = new Map<string, ActiveConstraint[]>();
  private readonly pending = new Set<string>();
  private readonly problemRefs = new Map<string, number>();
  private readonly locked: Readonly<Record<string, string>>;
  private readonly maxSteps: number;
  private best: Attempt | undefined;
  private bestProblems = Infinity;
  private steps = 0;
  private exhausted = false;

  constructor(
    private readonly source: DependencySource,
    options: ResolveOptions,
  ) {
    this.locked = options.upgrade ? {} : (options.locked ?? {});
    this.maxSteps = options.maxSteps ?? 50_000;
  }

  async run(root: RootRef, deps: Dep[]): Promise<DependencyReport> {
    if (root.type === 'Taskserv') this.versions.set(root.name, root.versions);
    this.rootKey = root.key;
    this.decide(root.key, root.version, deps, 0);
    await this.step(); // the root is fixed: its conflict set has nowhere to jump
    const attempt = this.best!; // the first path always completes: problems never stop it
    return this.report(root, attempt);
  }

  private get done(): boolean {
    return this.bestProblems === 0 || this.exhausted;
  }

  /**
   * Decide the next pending name, then the rest below it. Returns a conflict set: decisions
   * such that no alternative elsewhere can beat the best attempt while they stand. A decision
   * absent from the set of the attempt below it is irrelevant to every problem found there,
   * so its other candidates are skipped (conflict-directed backjumping).
   */
  private async step(): Promise<Set<string>> {
    if (++this.steps > this.maxSteps && this.best) {
      this.exhausted = true;
      return new Set();
    }
    if (this.problemRefs.size >= this.bestProblems) return await this.problemCauses();
    const name = this.nextPending();
    if (name === undefined) {
      this.record();
      return await this.problemCauses();
    }
    const available = await this.versionsOf(name);
    const candidates = this.candidates(name, available);
    const depth = this.depthOf(name);
    // What the attempts below blame, plus who reaches this name and narrows its candidates.
    const conflict = new Set<string>();
    const allTried = async () => {
      for (const c of await this.lifted(this.constraints.get(name) ?? [])) conflict.add(c);
      return conflict;
    };
    if (candidates.length === 0) {
      for (const c of await this.attempt(name, null, [], depth)) if (c !== name) conflict.add(c);
      return allTried();
    }
    const later: [string, Dep[]][] = [];
    const tryOne = async (version: string, deps: Dep[]): Promise<Set<string> | undefined> => {
      const below = await this.attempt(name, version, deps, depth);
      if (this.done || !below.has(name)) return below; // finished, or this choice did not matter: jump back
      for (const c of below) if (c !== name) conflict.add(c);
      return this.problemRefs.size >= this.bestProblems ? await this.problemCauses() : undefined;
    };
    for (const version of candidates) {
      const deps = await this.depsOf(name, version);
      if (this.hurts(deps)) {
        later.push([version, deps]);
        continue;
      }
      const jump = await tryOne(version, deps);
      if (jump) return jump;
    }
    for (const [version, deps] of later) {
      const jump = await tryOne(version, deps);
      if (jump) return jump;
    }
    return allTried();
  }

  private async attempt(name: string, version: string | null, deps: Dep[], depth: number): Promise<Set<string>> {
    this.decide(name, version, deps, depth);
    const below = this.problemRefs.size < this.bestProblems ? await this.step() : await this.problemCauses();
    this.undecide(name);
    return below;
  }

  /**
   * Why the current problems exist: their requirers, and a decided name a later constraint
   * rejects (see `lifted`).
   */
  private async problemCauses(): Promise<Set<string>> {
    const requirers: ActiveConstraint[] = [];
    const rejected: string[] = [];
    for (const name of this.problemRefs.keys()) {
      for (const c of this.constraints.get(name) ?? []) {
        requirers.push(c);
        if (c.violated) rejected.push(name);
      }
    }
    const causes = await this.lifted(requirers);
    for (const name of rejected) causes.add(name);
    return causes;
  }

  /**
   * The decisions behind these constraints. A requirer none of whose candidates can ever
   * resolve (each needs something missing or unsatisfiable, however the rest is chosen) is
   * no cause itself: its own requirers are, as only they can avoid reaching it.
   */
  private async lifted(constraints: readonly ActiveConstraint[]): Promise<Set<string>> {
    const causes = new Set<string>();
    const seen = new Set<string>();
    const lift = async (by: string): Promise<void> => {
      if (seen.has(by)) return;
      seen.add(by);
      const on = this.constraints.get(by) ?? [];
      if (by === this.rootKey || this.selected.get(by)?.version == null || (await this.anyViable(by, on))) {
        causes.add(by);
        return;
      }
      for (const c of on) await lift(c.by);
    };
    for (const c of constraints) await lift(c.by);
    return causes;
  }

  /** Some version of `name` within these constraints (the lock applies) is not doomed. */
  private async anyViable(name: string, constraints: readonly { range: string; test: VersionTest }[]): Promise<boolean> {
    const available = await this.versionsOf(name);
    const locked = this.locked[name];
    const options = locked !== undefined ? (lockFits(locked, available, constraints) ? [locked] : []) : available.filter((v) => constraints.every((c) => c.test(v)));
    for (const version of options) if (!(await this.doomedAt(name, version))) return true;
    return false;
  }

  /**
   * A version is doomed when one of its dependencies has no viable version in its range,
   * whatever else is chosen. Memoized; a version met again on a cycle counts as viable.
   */
  private async doomedAt(name: string, version: string): Promise<boolean> {
    const key = `${name}@${version}`;
    const known = this.doom.get(key);
    if (known !== undefined) return known === true;
    this.doom.set(key, 'busy');
    let doomed = false;
    for (const dep of await this.depsOf(name, version)) {
      if (!(await this.anyViable(dep.name, [dep]))) {
        doomed = true;
        break;
      }
    }
    this.doom.set(key, doomed);
    return doomed;
  }

  /** Closest to the root first, then by name: parents decide before their dependencies. */
  private nextPending(): string | undefined {
    let best: string | undefined;
    let bestDepth = Infinity;
    for (const name of this.pending) {
      const depth = this.depthOf(name);
      if (depth < bestDepth || (depth === bestDepth && name < best!)) {
        best = name;
        bestDepth = depth;
      }
    }
    return best;
  }

  private depthOf(name: string): number {
    let depth = Infinity;
    for (const c of this.constraints.get(name) ?? []) if (c.depth < depth) depth = c.depth;
    return depth;
  }

  private candidates(name: string, available: readonly string[]): string[] {
    const constraints = this.constraints.get(name) ?? [];
    const locked = this.locked[name];
    if (locked !== undefined) return lockFits(locked, available, constraints) ? [locked] : [];
    return available.filter((v) => constraints.every((c) => c.test(v)));
  }

  /** Would this candidate's dependencies immediately add a problem? (Their versions are fetched by `depsOf`.) */
  private hurts(deps: Dep[]): boolean {
    for (const dep of deps) {
      const chosen = this.selected.get(dep.name);
      if (chosen) {
        if (chosen.version !== null && !dep.test(chosen.version)) return true;
        continue;
      }
      const available = this.versions.get(dep.name)!;
      const constraints = this.constraints.get(dep.name) ?? [];
      const locked = this.locked[dep.name];
      if (locked !== undefined) {
        if (!lockFits(locked, available, [...constraints, dep])) return true;
      } else if (!available.some((v) => dep.test(v) && constraints.every((c) => c.test(v)))) return true;
    }
    return false;
  }

  private decide(name: string, version: string | null, deps: Dep[], depth: number): void {
    this.selected.set(name, { version, deps, depth });
    this.pending.delete(name);
    if (version === null) this.addProblem(name);
    const required_by = `${name.includes(':') ? name.slice(name.indexOf(':') + 1) : name}@${version}`;
    for (const dep of deps) {
      let list = this.constraints.get(dep.name);
      if (!list) this.constraints.set(dep.name, (list = []));
      const chosen = this.selected.get(dep.name);
      const violated = chosen !== undefined && chosen.version !== null && !dep.test(chosen.version);
      list.push({ range: dep.range, test: dep.test, required_by, by: name, depth: depth + 1, violated });
      if (violated) this.addProblem(dep.name);
      if (!chosen) this.pending.add(dep.name);
    }
  }

  private undecide(name: string): void {
    const selection = this.selected.get(name)!;
    for (let i = selection.deps.length - 1; i >= 0; i--) {
      const dep = selection.deps[i]!;
      const list = this.constraints.get(dep.name)!;
      const removed = list.pop()!;
      if (removed.violated) this.removeProblem(dep.name);
      if (list.length === 0 && !this.selected.has(dep.name)) this.pending.delete(dep.name);
    }
    this.selected.delete(name);
    if (selection.version === null) this.removeProblem(name);
    if ((this.constraints.get(name)?.length ?? 0) > 0) this.pending.add(name);
  }

  private addProblem(name: string): void {
    this.problemRefs.set(name, (this.problemRefs.get(name) ?? 0) + 1);
  }

  private removeProblem(name: string): void {
    const n = this.problemRefs.get(name)! - 1;
    if (n === 0) this.problemRefs.delete(name);
    else this.problemRefs.set(name, n);
  }

  private record(): void {
    if (this.problemRefs.size >= this.bestProblems) return;
    this.bestProblems = this.problemRefs.size;
    const constraints = new Map<string, Constraint[]>();
    for (const [name, list] of this.constraints) {
      if (list.length) constraints.set(name, list.map((c) => ({ range: c.range, required_by: c.required_by })));
    }
    this.best = { selected: new Map(this.selected), constraints, problems: [...this.problemRefs.keys()] };
  }

  private async versionsOf(name: string): Promise<readonly string[]> {
    let found = this.versions.get(name);
    if (found === undefined) {
      try {
        found = highestFirst(await this.source.availableVersions('Taskserv', name));
      } catch (err) {
        if (!(err instanceof ExtensionNotFound)) throw err;
        found = [];
      }
      this.versions.set(name, found);
    }
    return found;
  }

  private async depsOf(name: string, version: string): Promise<Dep[]> {
    const key = `${name}@${version}`;
    let found = this.depsCache.get(key);
    if (found === undefined) {
      const { metadata } = await this.source.loadExtension('Taskserv', name, version);
      found = metadata.dependencies.map((d) => parseDep(d, name, version));
      for (const dep of found) await this.versionsOf(dep.name);
      this.depsCache.set(key, found);
    }
    return found;
  }

  private report(root: RootRef, attempt: Attempt): DependencyReport {
    const rootSelection = attempt.selected.get(root.key)!;
    const packages: ResolvedPackage[] = [];
    for (const [name, selection] of attempt.selected) {
      if (name === root.key || selection.version === null) continue;
      packages.push({
        name,
        version: selection.version,
        constraints: sortConstraints(attempt.constraints.get(name) ?? []),
        dependencies: depNames(selection.deps),
      });
    }
    packages.sort((a, b) => compare(a.name, b.name));
    const problems = attempt.problems
      .map((name) => this.problem(name, attempt, name === root.key ? root.version : undefined))
      .sort((a, b) => compare(a.name, b.name));
    const graph = new Map<string, string[]>([[root.key, depNames(rootSelection.deps)]]);
    for (const p of packages) graph.set(p.name, p.dependencies);
    return {
      root: { type: root.type, name: root.name, version: root.version, dependencies: depNames(rootSelection.deps) },
      packages,
      levels: topologicalLevels(packages),
      problems,
      cycle: findCycle(root.key, graph),
      exhausted: this.exhausted,
    };
  }

  private problem(name: string, attempt: Attempt, rootVersion: string | undefined): DependencyProblem {
    const constraints = sortConstraints(attempt.constraints.get(name) ?? []);
    const available = [...(this.versions.get(name) ?? [])];
    const locked = this.locked[name] ?? null;
    const requirements = constraints.map((c) => `${c.range === '*' ? name : `${name}@${c.range}`} required by ${c.required_by}`).join(' and ');
    const them = constraints.length > 1 ? 'all of them' : 'it';
    const list = `(available: ${available.join(', ') || 'none'})`;
    const fitting = available.filter((v) => constraints.every((c) => rangeOf(c.range)(v)));
    const selected = attempt.selected.get(name)?.version ?? null;
    let kind: DependencyProblemKind;
    let reason: string;
    if (available.length === 0) {
      kind = 'missing';
      reason = 'not in the library';
    } else if (locked !== null && rootVersion === undefined && !fitting.includes(locked)) {
      kind = 'locked';
      const where = available.includes(locked) ? `which does not satisfy ${them}` : 'which is no longer in the library';
      const instead = fitting.length ? `; upgrade to select ${fitting[0]}` : `; no version satisfies ${them} either`;
      reason = `locked at ${locked}, ${where}${instead}`;
    } else if (rootVersion !== undefined) {
      kind = 'conflict';
      reason = `the root is ${name}@${rootVersion}, which does not satisfy ${them}`;
    } else if (fitting.length === 0 || selected === null) {
      kind = 'conflict';
      reason = `no version satisfies ${them}`;
    } else {
      kind = 'conflict';
      reason = this.exhausted
        ? `${selected} was selected before ${them === 'it' ? 'it was' : 'all of them were'} known and the search budget ran out`
        : `${selected} was selected; ${fitting.join(', ')} would satisfy ${them} but ${fitting.length > 1 ? 'their' : 'its'} own dependencies fail`;
    }
    return { name, kind, constraints, available, locked, message: `${requirements}: ${reason} ${list}` };
  }
}

/** A locked version stands while it exists and satisfies every constraint (a locked prerelease included). */
function lockFits(locked: string, available: readonly string[], constraints: readonly { range: string }[]): boolean {
  return available.includes(locked) && constraints.every((c) => semver.satisfies(locked, c.range, { includePrerelease: true }));
}

function sortConstraints(list: Constraint[]): Constraint[] {
  return [...list].sort((a, b) => compare(a.required_by, b.required_by) || compare(a.range, b.range));
}

function depNames(deps: readonly Dep[]): string[] {
  return [...new Set(deps.map((d) => d.name))].sort(compare);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Longest-path layering: a package sits one level above its deepest dependency. */
export function topologicalLevels(packages: readonly { name: string; dependencies: readonly string[] }[]): string[][] {
  const known = new Map(packages.map((p) => [p.name, p.dependencies]));
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const [name, deps] of known) {
    const inside = deps.filter((d) => known.has(d));
    waiting.set(name, inside.length);
    for (const d of inside) {
      if (!dependents.has(d)) dependents.set(d, []);
      dependents.get(d)!.push(name);
    }
  }
  const level = new Map<string, number>();
  let ready = [...waiting].filter(([, n]) => n === 0).map(([name]) => name);
  const levels: string[][] = [];
  while (ready.length) {
    levels.push(ready.sort(compare));
    const next: string[] = [];
    for (const name of ready) {
      level.set(name, levels.length - 1);
      for (const d of dependents.get(name) ?? []) {
        const n = waiting.get(d)! - 1;
        waiting.set(d, n);
        if (n === 0) next.push(d);
      }
    }
    ready = next;
  }
  return levels; // packages on a cycle never become ready and are left out
}

/** The first cycle reached from `start` (dependencies visited in name order), closed: `[a, b, c, a]`. */
export function findCycle(start: string, graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
  state.set(start, 'open');
  path.push(start);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const deps = graph.get(top.name) ?? [];
    if (top.next >= deps.length) {
      state.set(top.name, 'done');
      stack.pop();
      path.pop();
      continue;
    }
    const dep = deps[top.next++]!;
    const seen = state.get(dep);
    if (seen === 'open') return [...path.slice(path.indexOf(dep)), dep].map(plainName);
    if (seen === undefined && graph.has(dep)) {
      state.set(dep, 'open');
      path.push(dep);
      stack.push({ name: dep, next: 0 });
    }
  }
  return null;
}

function plainName(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(colon + 1);
}

// ---------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------

export interface SourceEntry {
  type?: ExtensionType | 'provider' | 'taskserv' | 'cluster';
  name: string;
  version: string;
  dependencies?: readonly string[];
}

/** An in-memory library (tests, benchmarks, a discovered snapshot). */
export class MemorySource implements DependencySource {
  private readonly entries = new Map<string, Map<string, { dependencies: readonly string[] } | Error>>();
  private readonly sorted = new Map<string, string[]>();

  constructor(entries: Iterable<SourceEntry> = []) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: SourceEntry, broken?: Error): this {
    const key = `${parseExtensionType(entry.type ?? 'Taskserv')}/${entry.name}`;
    let versions = this.entries.get(key);
    if (!versions) this.entries.set(key, (versions = new Map()));
    versions.set(entry.version, broken ?? { dependencies: [...(entry.dependencies ?? [])] });
    this.sorted.delete(key);
    return this;
  }

  names(type: ExtensionType | string): string[] {
    const prefix = `${parseExtensionType(type)}/`;
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort(compare);
  }

  /** Versions highest first; `ExtensionNotFound` listing the names of the type, as the library does. */
  availableVersions(type: ExtensionType | string, name: string): string[] {
    const t = parseExtensionType(type);
    const key = `${t}/${name}`;
    let versions = this.sorted.get(key);
    if (!versions) {
      versions = highestFirst(this.entries.get(key)?.keys() ?? []);
      this.sorted.set(key, versions);
    }
    if (versions.length === 0) {
      const existing = this.names(t);
      throw new ExtensionNotFound(`${t.toLowerCase()} "${name}" not found; available: ${existing.join(', ') || 'none'}`, {
        type: t.toLowerCase(),
        name,
        available: existing,
      });
    }
    return versions;
  }

  /** Alias matching `ExtensionLibrary`. */
  versionsOf(type: ExtensionType | string, name: string): string[] {
    return this.availableVersions(type, name);
  }

  async loadExtension(type: ExtensionType | string, name: string, version: string): Promise<{ metadata: { name: string; version: string; dependencies: readonly string[] } }> {
    const t = parseExtensionType(type);
    const versions = this.entries.get(`${t}/${name}`);
    const resolved = versions?.has(version) ? version : resolveVersion(this.availableVersions(t, name), version, `${t.toLowerCase()} "${name}"`);
    const found = versions!.get(resolved)!;
    if (found instanceof Error) throw found;
    return { metadata: { name, version: resolved, dependencies: found.dependencies } };
  }
}

/**
 * A snapshot of the library read by discovery: one Nushell call per type (taskservs, and
 * the root's type when it is another), instead of one load per version. A broken manifest
 * keeps its version listed and fails with its `InvalidMetadata` when selected, as a load would.
 */
export async function discoveredSource(
  manager: { discover(type: ExtensionType, name?: string): Promise<DiscoveredExtension[]> },
  rootType: ExtensionType | string = 'Taskserv',
): Promise<MemorySource> {
  const types = [...new Set<ExtensionType>(['Taskserv', parseExtensionType(rootType)])];
  const source = new MemorySource();
  for (const type of types) {
    for (const found of await manager.discover(type)) {
      if (found.ok) source.add({ type, name: found.metadata.name, version: found.metadata.version, dependencies: found.metadata.dependencies });
      else if (semver.valid(found.version) === found.version) {
        const { kind: _kind, message, ...details } = found.error;
        source.add({ type, name: found.name, version: found.version }, new InvalidMetadata(message, details));
      }
    }
  }
  return source;
}
