import type { FastifyPluginAsync } from 'fastify';
import { dependencyReport } from '../dependency-report.js';
import { renderGraph, type GraphFormat } from '../graph.js';
import { parseExtensionType, parseName } from '../input.js';
import { parseTargetRef, type Targets } from '../targets.js';
import type { ExtensionManager } from '../manager.js';
import type { DiscoveredExtension } from '../discovery.js';
import { EXTENSION_TYPES, type Extension, type ExtensionType } from '../types.js';
import { resolveVersion, sortVersions } from '../versions.js';
import type { TemporalAccess } from './workflow-routes.js';

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const TYPE = { type: 'string', minLength: 1, maxLength: 16 } as const;

/** The reference's shape of a loaded extension: metadata, path, loaded_at. */
function referenceShape(e: Extension) {
  return { metadata: e.metadata, path: e.path, loaded_at: e.loaded_at };
}

interface ExtensionRoutesOptions {
  manager: ExtensionManager;
  targets: Targets;
  temporal: TemporalAccess | undefined;
  preload: () => 'off' | 'running' | 'done';
}

export const extensionRoutes: FastifyPluginAsync<ExtensionRoutesOptions> = async (app, { manager, targets, temporal, preload }) => {
  app.get('/health', async () => ({
    success: true,
    data: {
      status: 'ok',
      worker: temporal?.identity ?? null,
      task_queue: temporal?.taskQueue ?? null,
      auto_load: preload(),
      cached_entries: manager.metrics().cached_entries,
    },
  }));

  app.get('/api/v1/extensions/loaded', async () => ({ success: true, data: manager.listLoadedExtensions().map(referenceShape) }));

  app.post<{ Body: { extension_type: string; name: string } }>(
    '/api/v1/extensions/reload',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['extension_type', 'name'], properties: { extension_type: TYPE, name: NAME } } } },
    async (req, reply) => {
      const extension = await manager.reloadExtension(req.body.extension_type, req.body.name);
      // The cache lives in each worker: reach the others on the task queue too.
      const others = await temporal?.broadcast({ operation: 'reload', type: req.body.extension_type, name: req.body.name });
      if (others) reply.header('x-prvng-workers', describeBroadcast(others));
      return { success: true, data: `Extension ${extension.metadata.name} reloaded` };
    },
  );

  app.delete('/api/v1/extensions/cache', async (_req, reply) => {
    manager.clearCache();
    const others = await temporal?.broadcast({ operation: 'clear' });
    if (others) reply.header('x-prvng-workers', describeBroadcast(others));
    return { success: true, data: 'Extension cache cleared' };
  });

  app.get<{ Querystring: { type?: string } }>(
    '/api/v1/extensions/available',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { type: TYPE } } } },
    async (req) => {
      const types = req.query.type ? [parseExtensionType(req.query.type)] : [...EXTENSION_TYPES];
      const data = [];
      for (const type of types) data.push(...summarize(type, await manager.discover(type)));
      return { success: true, data };
    },
  );

  app.get<{ Params: { type: string; name: string } }>('/api/v1/extensions/:type/:name', async (req) => {
    const type = parseExtensionType(req.params.type);
    const name = parseName(req.params.name);
    manager.availableVersions(type, name); // ExtensionNotFound (404) naming what exists
    const [summary] = summarize(type, await manager.discover(type, name));
    const cached = manager.cachedVersions(type, name);
    return { success: true, data: { ...summary!, cached: cached.length > 0, cached_versions: cached } };
  });

  app.get<{ Params: { type: string; name: string }; Querystring: { format?: GraphFormat; version?: string; target?: string } }>(
    '/api/v1/extensions/:type/:name/graph',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { format: { type: 'string', enum: ['dot', 'mermaid', 'svg'] }, version: { type: 'string', maxLength: 256 }, target: { type: 'string', maxLength: 130 } },
        },
      },
    },
    async (req, reply) => {
      const { format = 'svg', version, target } = req.query;
      const { report, statuses } = await dependencyReport(manager, targets, {
        type: req.params.type,
        name: req.params.name,
        ...(version ? { version } : {}),
        ...(target ? { target: parseTargetRef(target) } : {}),
      });
      return reply.type(MEDIA[format]).send(await renderGraph(report, format, { statuses }));
    },
  );
};

const MEDIA: Record<GraphFormat, string> = { dot: 'text/vnd.graphviz; charset=utf-8', mermaid: 'text/plain; charset=utf-8', svg: 'image/svg+xml' };

/** Discovered manifests grouped by name: versions (highest first), latest stable, its metadata. */
function summarize(type: ExtensionType, found: DiscoveredExtension[]) {
  const byName = new Map<string, DiscoveredExtension[]>();
  for (const entry of found) {
    const name = entry.ok ? entry.metadata.name : entry.name;
    byName.set(name, [...(byName.get(name) ?? []), entry]);
  }
  return [...byName].map(([name, entries]) => {
    const valid = entries.filter((e) => e.ok);
    const versions = sortVersions(valid.map((e) => e.metadata.version));
    let latest: string | null = null;
    try {
      latest = resolveVersion(versions, undefined, name);
    } catch {
      // only prereleases, or nothing valid
    }
    const manifest = valid.find((e) => e.metadata.version === latest)?.metadata;
    return {
      extension_type: type,
      name,
      versions,
      latest,
      description: manifest?.description ?? null,
      dependencies: manifest?.dependencies ?? [],
      invalid: entries.filter((e) => !e.ok).map((e) => ({ version: e.version, error: e.error.message })),
    };
  });
}

function describeBroadcast(result: { workers: { ok: boolean }[] }): string {
  return `${result.workers.filter((w) => w.ok).length}/${result.workers.length} other workers`;
}
