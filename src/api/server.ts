import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/common';
import { ExtensionError, type ErrorKind } from '../errors.js';
import type { ExtensionManager } from '../manager.js';
import type { Targets } from '../targets.js';
import { extensionRoutes } from './extension-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { workflowRoutes, type TemporalAccess } from './workflow-routes.js';

export interface ApiServerOptions {
  manager: ExtensionManager;
  /** Where targets are: graphs can be coloured by what one has installed. */
  targets: Targets;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** When set, mutating endpoints need `Authorization: Bearer <token>`. */
  token?: string;
  /** Reaching Temporal from the API: starting installs, broadcasting cache operations. */
  temporal?: TemporalAccess;
  /** The Temporal SDK's own Prometheus endpoint, appended to `GET /metrics`. */
  sdkMetricsUrl?: string;
  /** Where `auto_load` is, for `/health`. */
  preload?: () => 'off' | 'running' | 'done';
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** HTTP status of each error kind. */
const STATUS: Partial<Record<ErrorKind, number>> = {
  InvalidInput: 400,
  InvalidMetadata: 400,
  ProviderError: 400,
  ExtensionNotFound: 404,
  VersionNotFound: 404,
  InstallConflict: 409,
  DependencyError: 409,
  DependencyCycle: 409,
  ChecksumMismatch: 409,
  LockDrift: 409,
};

/**
 * The worker's HTTP API (it runs in the worker process, where the cache lives): the
 * reference's two endpoints with its exact JSON, plus discovery, metrics, health, and
 * starting and inspecting installs. Errors are `{"success": false, "error": {kind, message}}`.
 */
export class ApiServer {
  readonly app: FastifyInstance;

  constructor(private readonly options: ApiServerOptions) {
    // Unknown fields are rejected, not silently dropped (Fastify's default strips them).
    // Long path parameters reach the handlers, whose checks answer in our error shape.
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 16 * 1024 }, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
    this.guard();
    this.app.register(extensionRoutes, {
      manager: options.manager,
      targets: options.targets,
      temporal: options.temporal,
      preload: options.preload ?? (() => 'off'),
    });
    this.app.register(metricsRoutes, { manager: options.manager, sdkMetricsUrl: options.sdkMetricsUrl });
    this.app.register(workflowRoutes, { temporal: options.temporal });
  }

  /** Start listening; returns the base URL. */
  async start(): Promise<string> {
    const at = this.options.listen.lastIndexOf(':');
    const host = this.options.listen.slice(0, at);
    const port = Number(this.options.listen.slice(at + 1));
    if (!isLoopback(host) && !this.options.token) {
      throw new Error(`refusing to serve the API on ${host} without [api] token (PRVNG_API_TOKEN): set one, or listen on 127.0.0.1`);
    }
    return this.app.listen({ host, port });
  }

  stop(): Promise<void> {
    return this.app.close();
  }

  /** Bearer token on mutating calls, an audit line for each, and one error shape for all. */
  private guard(): void {
    const { token, manager } = this.options;
    this.app.addHook('onRequest', async (req, reply) => {
      // A read that names a target runs its provider's script (with its credentials): guard it too.
      const touchesTarget = (req.query as Record<string, unknown> | undefined)?.target !== undefined;
      if (!token || (!MUTATING.has(req.method) && !touchesTarget)) return;
      if (!sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) {
        return reply.status(401).send({ success: false, error: { kind: 'Unauthorized', message: 'this endpoint needs Authorization: Bearer <token>' } });
      }
    });
    this.app.addHook('onResponse', async (req, reply) => {
      if (!MUTATING.has(req.method)) return;
      manager.audit?.record({ operation: 'api', outcome: reply.statusCode < 400 ? 'ok' : 'error', method: req.method, url: req.url, status: reply.statusCode, caller: req.ip });
    });
    this.app.setNotFoundHandler((req, reply) =>
      reply.status(404).send({ success: false, error: { kind: 'NotFound', message: `no route ${req.method} ${req.url}` } }),
    );
    this.app.setErrorHandler((err: FastifyError | Error, req, reply) => {
      if (err instanceof ExtensionError) {
        const status = STATUS[err.kind] ?? 500;
        if (status >= 500) console.error(`API ${req.method} ${req.url} failed: ${err.kind}: ${err.message}`);
        return reply.status(status).send({ success: false, error: err.toJSON() });
      }
      if (err instanceof WorkflowNotFoundError) {
        return reply.status(404).send({ success: false, error: { kind: 'WorkflowNotFound', message: err.message } });
      }
      const status = (err as FastifyError).statusCode ?? 500;
      if (status >= 500) {
        req.log.error(err);
        console.error(`API ${req.method} ${req.url} failed:`, err);
        return reply.status(500).send({ success: false, error: { kind: 'Internal', message: 'internal error (logged by the worker)' } });
      }
      const message = (err as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `malformed JSON body: ${err.message}` : err.message;
      return reply.status(status).send({ success: false, error: { kind: 'InvalidInput', message } });
    });
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
