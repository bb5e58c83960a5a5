/**
 * Real processes for the fault tests: `prvng worker` children (the built CLI), a dedicated
 * dev server that can be stopped and started again, and what the tests read back from
 * /proc, the target's file tree and the workflow history.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const run = promisify(execFile);

export const PRVNG_BIN = join(PACKAGE_ROOT, 'bin', 'prvng.js');
export const TEMPORAL_DEV = join(PACKAGE_ROOT, 'temporal-dev.sh');

/**
 * The workers are the built CLI: a `dist/` older than the sources would test old code,
 * so refuse to run against it (`npm run build` first).
 */
export function assertBuilt(): void {
  const cli = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` before the fault tests`);
  const stale: string[] = [];
  for (const dir of ['src', 'activities', 'workflows']) {
    for (const file of walk(join(PACKAGE_ROOT, dir))) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const rel = relative(PACKAGE_ROOT, file);
      const built = join(PACKAGE_ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs) stale.push(rel);
    }
  }
  if (stale.length) throw new Error(`dist/ is older than ${stale.slice(0, 5).join(', ')}: run \`npm run build\` before the fault tests`);
}

/** Every file (not folder) under `dir`, absolute. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** The files of a target, relative to its root, sorted. */
export function fileTree(root: string): string[] {
  return walk(root)
    .map((f) => relative(root, f))
    .sort();
}

export interface WorkerProcessOptions {
  taskQueue: string;
  /** PRVNG_DATA_DIR: extension snapshots, audit log and the targets. */
  dataDir: string;
  /** host:port of the Temporal frontend. */
  address: string;
}

/** A `prvng worker` child process; its output is kept for the failure message. */
export class WorkerProcess {
  readonly child: ChildProcess;
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly options: WorkerProcessOptions) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('TEMPORAL_') || key.startsWith('PRVNG_')) delete env[key];
    this.child = spawn(process.execPath, [PRVNG_BIN, 'worker', '--no-api', '--task-queue', options.taskQueue], {
      cwd: PACKAGE_ROOT,
      env: {
        ...env,
        TEMPORAL_ADDRESS: options.address,
        PRVNG_DATA_DIR: options.dataDir,
        PRVNG_AUTO_LOAD: 'false',
        // Several workers on one machine: the SDK's Prometheus exporter has one fixed port.
        PRVNG_SDK_METRICS_LISTEN: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The identity the SDK reports for this worker by default (`<pid>@<host>`). */
  get identity(): string {
    return `${this.pid}@${hostname()}`;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get log(): string {
    return this.output;
  }

  /** Resolves once the worker says it polls its task queue. */
  async ready(timeoutMs = 30_000): Promise<this> {
    await waitFor(() => {
      if (!this.running) throw new Error(`worker ${this.pid} exited (${JSON.stringify(this.exitInfo)}) before polling:\n${this.output}`);
      return this.output.includes('worker polling task queue');
    }, timeoutMs, `worker ${this.pid} polling`);
    return this;
  }

  /** SIGKILL: no shutdown, no cleanup, nothing flushed. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return procStat(pid)?.state !== 'Z';
}

/** Fields of /proc/<pid>/stat we need; undefined once the process is gone. */
export function procStat(pid: number): { state: string; ppid: number; pgid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]) };
}

/** Processes in process group `pgid` that are still running. */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && stat.pgid === pgid && stat.state !== 'Z';
    });
}

/** Kill a process group we found orphaned, so a test leaves nothing behind. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Poll `check` until it returns true; throws after `timeoutMs` naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A promise that rejects after `ms`, so no test waits forever on a result. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A dev server of its own (ports and SQLite file), driven through temporal-dev.sh like the
 * shared one, so it can be stopped and started again without touching the shared server.
 */
export class DedicatedServer {
  constructor(
    readonly port: number,
    readonly uiPort: number,
    readonly dataDir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get sqlite(): string {
    return join(this.dataDir, 'temporal.sqlite');
  }

  private async script(command: 'start' | 'stop' | 'status'): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('TEMPORAL_') && key !== 'TEMPORAL_CLI') delete env[key];
    const { stdout, stderr } = await run(TEMPORAL_DEV, [command], {
      env: { ...env, TEMPORAL_PORT: String(this.port), TEMPORAL_UI_PORT: String(this.uiPort), PRVNG_DATA_DIR: this.dataDir },
      timeout: 120_000,
    });
    return stdout + stderr;
  }

  start(): Promise<string> {
    return this.script('start');
  }

  stop(): Promise<string> {
    return this.script('stop');
  }

  async serving(): Promise<boolean> {
    try {
      await this.script('status');
      return true;
    } catch {
      return false;
    }
  }

  /** The server's pid from the pid file temporal-dev.sh keeps, when it runs. */
  pid(): number | undefined {
    const file = join(this.dataDir, `temporal-server-${this.port}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid && alive(pid) ? pid : undefined;
  }
}

/**
 * Watches slowpoke's `install.pid` on a target: every install script that ran, and how many
 * were alive at once (two means two installs wrote to the same target concurrently).
 */
export class ScriptMonitor {
  readonly seen = new Map<number, { firstSeen: number; lastAlive: number }>();
  maxConcurrent = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pidFile: string, intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = Date.now();
    if (existsSync(this.pidFile)) {
      const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
      if (pid > 0 && !this.seen.has(pid) && alive(pid)) this.seen.set(pid, { firstSeen: now, lastAlive: now });
    }
    let running = 0;
    for (const [pid, s] of this.seen) {
      if (s.lastAlive >= now - 200 && alive(pid)) {
        s.lastAlive = now;
        running++;
      }
    }
    this.maxConcurrent = Math.max(this.maxConcurrent, running);
  }

  /** Milliseconds during which more than one install script was alive (sampled). */
  overlapMs(): number {
    const spans = [...this.seen.values()].sort((a, b) => a.firstSeen - b.firstSeen);
    let overlap = 0;
    for (let i = 1; i < spans.length; i++) {
      const end = Math.max(...spans.slice(0, i).map((s) => s.lastAlive));
      overlap += Math.max(0, Math.min(end, spans[i]!.lastAlive) - spans[i]!.firstSeen);
    }
    return overlap;
  }

  stop(): { scripts: number; max_concurrent: number; overlap_ms: number } {
    this.sample();
    clearInterval(this.timer);
    return { scripts: this.seen.size, max_concurrent: this.maxConcurrent, overlap_ms: this.overlapMs() };
  }
}
