/** What the reference asks us to watch: cache effectiveness and load times. */
export interface ExtensionMetricsSnapshot {
  total_extension_loads: number;
  cache_hits: number;
  cache_misses: number;
  cache_hit_ratio: number;
  evictions: number;
  hot_reloads: number;
  reloads: number;
  load_errors: number;
  cached_entries: number;
  cold_load_ms: { count: number; p50: number; p90: number; p99: number; max: number };
}

const SAMPLES = 1024;

export class ExtensionMetrics {
  totalLoads = 0;
  cacheHits = 0;
  cacheMisses = 0;
  evictions = 0;
  hotReloads = 0;
  reloads = 0;
  loadErrors = 0;
  /** The last SAMPLES cold-load durations, a ring. */
  private readonly coldLoads: number[] = [];
  private next = 0;
  private coldCount = 0;

  recordColdLoad(ms: number): void {
    this.coldCount++;
    if (this.coldLoads.length < SAMPLES) this.coldLoads.push(ms);
    else this.coldLoads[this.next] = ms;
    this.next = (this.next + 1) % SAMPLES;
  }

  snapshot(cachedEntries: number): ExtensionMetricsSnapshot {
    const sorted = [...this.coldLoads].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!) : 0);
    return {
      total_extension_loads: this.totalLoads,
      cache_hits: this.cacheHits,
      cache_misses: this.cacheMisses,
      cache_hit_ratio: this.totalLoads ? this.cacheHits / this.totalLoads : 0,
      evictions: this.evictions,
      hot_reloads: this.hotReloads,
      reloads: this.reloads,
      load_errors: this.loadErrors,
      cached_entries: cachedEntries,
      cold_load_ms: { count: this.coldCount, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? round(sorted.at(-1)!) : 0 },
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
