import type { FastifyPluginAsync } from 'fastify';
import type { ExtensionManager } from '../manager.js';
import type { ExtensionMetricsSnapshot } from '../metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ manager: ExtensionManager; sdkMetricsUrl: string | undefined }> = async (app, { manager, sdkMetricsUrl }) => {
  app.get('/api/v1/metrics', async () => ({ success: true, data: manager.metrics() }));

  app.get('/metrics', async (_req, reply) => {
    let text = prometheusText(manager.metrics());
    if (sdkMetricsUrl) {
      // The Temporal worker's own metrics, from the SDK runtime's Prometheus exporter.
      try {
        text += `\n${await (await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) })).text()}`;
      } catch {
        text += `\n# Temporal SDK metrics unavailable at ${sdkMetricsUrl}\n`;
      }
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
};

/** The same figures as `/api/v1/metrics`, in the Prometheus text exposition format. */
export function prometheusText(m: ExtensionMetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  metric('prvng_extension_loads_total', 'counter', 'Extension loads requested (hits and misses).', m.total_extension_loads);
  metric('prvng_extension_cache_hits_total', 'counter', 'Loads served from the LRU cache.', m.cache_hits);
  metric('prvng_extension_cache_misses_total', 'counter', 'Loads that ran Nushell.', m.cache_misses);
  metric('prvng_extension_cache_hit_ratio', 'gauge', 'cache_hits / total loads.', m.cache_hit_ratio);
  metric('prvng_extension_cache_evictions_total', 'counter', 'Entries evicted as least recently used.', m.evictions);
  metric('prvng_extension_hot_reloads_total', 'counter', 'Cached extensions reloaded because their files changed.', m.hot_reloads);
  metric('prvng_extension_reloads_total', 'counter', 'Explicit reloads.', m.reloads);
  metric('prvng_extension_load_errors_total', 'counter', 'Loads that failed.', m.load_errors);
  metric('prvng_extension_cache_entries', 'gauge', 'Extensions in the cache now.', m.cached_entries);
  const cold = m.cold_load_ms;
  lines.push('# HELP prvng_extension_cold_load_seconds Cold-load time (Nushell, hashing, snapshot), recent loads.', '# TYPE prvng_extension_cold_load_seconds summary');
  for (const [q, v] of [['0.5', cold.p50], ['0.9', cold.p90], ['0.99', cold.p99]] as const) lines.push(`prvng_extension_cold_load_seconds{quantile="${q}"} ${v / 1000}`);
  lines.push(`prvng_extension_cold_load_seconds_count ${cold.count}`);
  return `${lines.join('\n')}\n`;
}
