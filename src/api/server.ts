import Fastify, { type FastifyInstance } from 'fastify';
import { ExtensionError } from '../errors.js';
import type { ExtensionManager } from '../manager.js';

export interface ApiServerOptions {
  manager: ExtensionManager;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  token?: string;
}

/** The worker's HTTP API: it runs in the worker process, where the cache lives. */
export class ApiServer {
  private readonly app: FastifyInstance;

  constructor(private readonly options: ApiServerOptions) {
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
    this.routes();
  }

  /** Start listening; returns the base URL. */
  async start(): Promise<string> {
    const { host, port } = splitListen(this.options.listen);
    if (!isLoopback(host) && !this.options.token) {
      throw new Error(`refusing to serve the API on ${host} without [api] token: set one, or listen on 127.0.0.1`);
    }
    const address = await this.app.listen({ host, port });
    return address;
  }

  stop(): Promise<void> {
    return this.app.close();
  }

  private routes(): void {
    const { manager } = this.options;
    this.app.setErrorHandler((err, _req, reply) => {
      if (err instanceof ExtensionError) {
        const status = err.kind === 'ExtensionNotFound' || err.kind === 'VersionNotFound' ? 404 : err.kind === 'InvalidInput' ? 400 : 500;
        return reply.status(status).send({ success: false, error: err.toJSON() });
      }
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      return reply.status(status).send({ success: false, error: { kind: status < 500 ? 'InvalidInput' : 'Internal', message: (err as Error).message } });
    });

    this.app.get('/health', async () => ({ success: true, data: { status: 'ok', cached_entries: manager.metrics().cached_entries } }));

    this.app.get('/api/v1/extensions/loaded', async () => ({ success: true, data: manager.listLoadedExtensions().map(referenceShape) }));

    this.app.post<{ Body: { extension_type: string; name: string } }>(
      '/api/v1/extensions/reload',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['extension_type', 'name'],
            properties: { extension_type: { type: 'string', maxLength: 32 }, name: { type: 'string', maxLength: 64 } },
          },
        },
      },
      async (req) => {
        const extension = await manager.reloadExtension(req.body.extension_type, req.body.name);
        return { success: true, data: `Extension ${extension.metadata.name} reloaded` };
      },
    );

    this.app.delete('/api/v1/extensions/cache', async () => {
      manager.clearCache();
      return { success: true, data: 'Extension cache cleared' };
    });

    this.app.get('/api/v1/metrics', async () => ({ success: true, data: manager.metrics() }));
  }
}

/** The reference's JSON for an Extension: metadata, path, loaded_at (and our content hash). */
function referenceShape(e: ReturnType<ExtensionManager['listLoadedExtensions']>[number]) {
  return { metadata: e.metadata, path: e.path, loaded_at: e.loaded_at, content_hash: e.content_hash };
}

function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at), port: Number(listen.slice(at + 1)) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
