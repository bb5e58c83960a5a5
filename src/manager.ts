import { basename, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { AuditLog } from './audit.js';
import { NushellExtensionSource, type DiscoveredExtension } from './discovery.js';
import { ExtensionError } from './errors.js';
import { parseExtensionType, parseName, parseVersionRequest } from './input.js';
import { ExtensionLibrary, type LibraryChange } from './library.js';
import { ExtensionMetrics, type ExtensionMetricsSnapshot } from './metrics.js';
import { BUNDLED_NU_DIR, NushellRunner, type Sandbox } from './nushell/runner.js';
import { contentHash, snapshot } from './snapshot.js';
import { cacheKey, typeFolder, type Extension, type ExtensionType } from './types.js';
import { resolveVersion, sortVersions } from './versions.js';

export interface ExtensionManagerOptions {
  /** The extension library (DESIGN.md section 3). */
  extensionsDir: string;
  /** Where content-addressed snapshots of loaded extensions are kept (`cache_dir`). */
  cacheDir: string;
  /** The nu binary; default the bundled one (the reference's `nu_path`). */
  nuPath?: string;
  /** The script answering `module discover` / `module load` (the reference's `provisioning_path`). */
  provisioningPath?: string;
  /** LRU capacity. Default 100, as the reference. */
  cacheSize?: number;
  /** JSON-lines audit file; no audit when omitted. */
  auditFile?: string;
  /** Reload a cached extension on its next access when its files change. Default true. */
  hotReload?: boolean;
  /** Timeout of each Nushell call. */
  scriptTimeoutMs?: number;
  /** How scripts are confined (see NushellRunnerOptions.sandbox). */
  sandbox?: Sandbox;
  /** A runner to share (tests, the worker); by default the manager makes its own. */
  runner?: NushellRunner;
}

interface CacheEntry {
  extension: Extension;
  /** The files changed on disk since the load: check the hash on the next access. */
  stale: boolean;
}

/**
 * Loads providers, taskservs and clusters through Nushell and keeps them in an LRU
 * (key `{type}:{name}:{version}`), as the reference's ExtensionManager, with hot reload:
 * a cached extension whose files change is reloaded on its next access.
 */
export class ExtensionManager {
  readonly library: ExtensionLibrary;
  readonly runner: NushellRunner;
  private readonly source: NushellExtensionSource;
  private readonly cache: LRUCache<string, CacheEntry>;
  private readonly inflight = new Map<string, Promise<Extension>>();
  private readonly metricsState = new ExtensionMetrics();
  /** The audit log every load, reload, clear and eviction goes to (and the API's calls). */
  readonly audit: AuditLog | undefined;
  private readonly ownsRunner: boolean;

  constructor(readonly options: ExtensionManagerOptions) {
    this.library = new ExtensionLibrary(options.extensionsDir);
    this.ownsRunner = options.runner === undefined;
    this.runner =
      options.runner ??
      new NushellRunner({
        ...(options.nuPath ? { nuPath: options.nuPath } : {}),
        ...(options.scriptTimeoutMs ? { timeoutMs: options.scriptTimeoutMs } : {}),
        ...(options.sandbox ? { sandbox: options.sandbox } : {}),
      });
    this.source = new NushellExtensionSource(
      this.runner,
      options.provisioningPath ?? join(BUNDLED_NU_DIR, 'provisioning.nu'),
      options.extensionsDir,
    );
    this.audit = options.auditFile ? new AuditLog(options.auditFile) : undefined;
    this.cache = new LRUCache<string, CacheEntry>({
      max: options.cacheSize ?? 100,
      dispose: (entry, key, reason) => {
        if (reason !== 'evict') return;
        this.metricsState.evictions++;
        this.audit?.record({ operation: 'evict', key, content_hash: entry.extension.content_hash, outcome: 'ok' });
      },
    });
    if (options.hotReload ?? true) this.library.onChange((change) => this.markStale(change));
  }

  /**
   * Load an extension: `version` is exact, a semver range, or omitted for the latest
   * stable one; it is resolved to a concrete version before the cache is consulted.
   */
  async loadExtension(type: ExtensionType | string, name: string, version?: string): Promise<Extension> {
    const started = performance.now();
    const t = parseExtensionType(type);
    const n = parseName(name);
    const request = parseVersionRequest(version);
    this.metricsState.totalLoads++;
    let key: string | undefined;
    try {
      const resolved = resolveVersion(this.library.versionsOf(t, n), request, `${t.toLowerCase()} "${n}"`);
      key = cacheKey(t, n, resolved);
      const entry = this.cache.get(key);
      if (entry && !entry.stale) {
        this.metricsState.cacheHits++;
        this.audit?.record({ operation: 'load', key, content_hash: entry.extension.content_hash, outcome: 'hit', duration_ms: performance.now() - started });
        return entry.extension;
      }
      if (entry?.stale) return await this.refresh(t, n, resolved, entry, started);
      this.metricsState.cacheMisses++;
      const extension = await this.coldLoad(t, n, resolved);
      this.audit?.record({ operation: 'load', key, content_hash: extension.content_hash, outcome: 'miss', duration_ms: performance.now() - started });
      return extension;
    } catch (err) {
      this.metricsState.loadErrors++;
      this.audit?.record({ operation: 'load', key: key ?? `${t}:${n}:${request ?? 'latest'}`, outcome: 'error', error: describe(err), duration_ms: performance.now() - started });
      throw err;
    }
  }

  /** Every cached extension, most recently used first. */
  listLoadedExtensions(): Extension[] {
    return [...this.cache.values()].map((e) => e.extension);
  }

  /**
   * Load again from disk, bypassing the cache: every cached version of the extension,
   * or the latest when none is cached. Returns the highest version reloaded.
   */
  async reloadExtension(type: ExtensionType | string, name: string): Promise<Extension> {
    const started = performance.now();
    const t = parseExtensionType(type);
    const n = parseName(name);
    const prefix = cacheKey(t, n, '');
    const cached = this.cachedVersions(t, n);
    const versions = cached.length ? cached : [resolveVersion(this.library.versionsOf(t, n), undefined, `${t.toLowerCase()} "${n}"`)];
    const reloaded: Extension[] = [];
    for (const version of versions) {
      this.cache.delete(cacheKey(t, n, version));
      try {
        reloaded.push(await this.coldLoad(t, n, version));
      } catch (err) {
        this.audit?.record({ operation: 'reload', key: cacheKey(t, n, version), outcome: 'error', error: describe(err) });
        throw err;
      }
    }
    this.metricsState.reloads++;
    const latest = reloaded[0]!; // versions are highest first
    this.audit?.record({ operation: 'reload', key: prefix + versions.join(','), content_hash: latest.content_hash, outcome: 'ok', duration_ms: performance.now() - started });
    return latest;
  }

  /** Whether any version of the extension is cached. */
  isExtensionLoaded(type: ExtensionType | string, name: string): boolean {
    return this.cachedVersions(type, name).length > 0;
  }

  /** The cached versions of an extension, highest first. */
  cachedVersions(type: ExtensionType | string, name: string): string[] {
    const prefix = cacheKey(parseExtensionType(type), parseName(name), '');
    return sortVersions([...this.cache.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
  }

  clearCache(): void {
    const entries = this.cache.size;
    this.cache.clear();
    this.audit?.record({ operation: 'clear', outcome: 'ok', entries });
  }

  /** Every manifest of a type, valid or not (one Nushell call). */
  discover(type: ExtensionType | string, name?: string): Promise<DiscoveredExtension[]> {
    return this.source.discover(parseExtensionType(type), name === undefined ? undefined : parseName(name));
  }

  /** Available versions of an extension, highest first. */
  availableVersions(type: ExtensionType | string, name: string): string[] {
    return this.library.versionsOf(parseExtensionType(type), parseName(name));
  }

  metrics(): ExtensionMetricsSnapshot {
    return this.metricsState.snapshot(this.cache.size);
  }

  async close(): Promise<void> {
    this.library.close();
    await this.audit?.close();
    if (this.ownsRunner) this.runner.close();
  }

  /** Concurrent loads of one key share one Nushell call. */
  private coldLoad(type: ExtensionType, name: string, version: string): Promise<Extension> {
    const key = cacheKey(type, name, version);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.readExtension(type, name, version).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async readExtension(type: ExtensionType, name: string, version: string): Promise<Extension> {
    const started = performance.now();
    const loaded = await this.source.load(type, name, version);
    const hash = await contentHash(loaded.dir);
    const snapshotDir = await snapshot(loaded.dir, hash, this.options.cacheDir);
    const extension: Extension = {
      metadata: loaded.metadata,
      // As the reference shows it: relative to the library's parent (`extensions/taskservs/kubernetes`).
      path: join(basename(this.options.extensionsDir), typeFolder(type), name),
      loaded_at: new Date().toISOString(),
      content_hash: hash,
      snapshot_dir: snapshotDir,
    };
    this.cache.set(cacheKey(type, name, version), { extension, stale: false });
    this.metricsState.recordColdLoad(performance.now() - started);
    return extension;
  }

  /** A cached entry whose files changed: reload only if the content really differs. */
  private async refresh(type: ExtensionType, name: string, version: string, entry: CacheEntry, started: number): Promise<Extension> {
    const key = cacheKey(type, name, version);
    const hash = await contentHash(this.library.versionDir(type, name, version));
    if (hash === entry.extension.content_hash) {
      entry.stale = false;
      this.metricsState.cacheHits++;
      this.audit?.record({ operation: 'load', key, content_hash: hash, outcome: 'hit', duration_ms: performance.now() - started });
      return entry.extension;
    }
    this.metricsState.cacheMisses++;
    this.metricsState.hotReloads++;
    const extension = await this.coldLoad(type, name, version);
    this.audit?.record({ operation: 'hot-reload', key, content_hash: extension.content_hash, previous_hash: entry.extension.content_hash, outcome: 'ok', duration_ms: performance.now() - started });
    return extension;
  }

  private markStale(change: LibraryChange): void {
    const prefix = cacheKey(change.type, change.name, change.version ?? '');
    for (const [key, entry] of this.cache.entries()) {
      if (change.version ? key === prefix : key.startsWith(prefix)) entry.stale = true;
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof ExtensionError) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
