import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { ScriptFailure } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** The subcommands a script may be asked to run: the only words that go in argv. */
export const SUBCOMMANDS = [
  'module discover',
  'module load',
  'target',
  'configure',
  'install',
  'verify',
  'uninstall',
] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export interface NushellRunnerOptions {
  /** The nu binary. Default: the platform binary of the pinned `nushell` npm package. */
  nuPath?: string;
  /** Folder given to `-I`, holding the `prvng` protocol module. Default: the bundled `nu/lib`. */
  libDir?: string;
  /** Milliseconds before the whole process group is killed. Default 60 000. */
  timeoutMs?: number;
  /** Bytes of stdout and of stderr kept (the tail); the rest is read and dropped. Default 64 KiB. */
  outputCapBytes?: number;
  /** Largest result file accepted. Default 8 MiB. */
  maxResultBytes?: number;
  /**
   * `process` (default): own process group, minimal environment, private HOME, timeouts,
   * output caps. `no-network`: also a network namespace of its own (`unshare --net`,
   * Linux), so a script cannot reach any host, loopback included.
   */
  sandbox?: Sandbox;
}

export type Sandbox = 'process' | 'no-network';

export interface RunOptions {
  /** Working directory of the script. Default: the script's folder. */
  cwd?: string;
  /** `PRVNG_*` variables for the script, the only variables of ours it sees. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Told the script's pid (also its process group) as soon as it is spawned. */
  onSpawn?: (pid: number) => void;
}

export interface RunResult<T> {
  data: T;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

const require = createRequire(import.meta.url);
/** The bundled Nushell side: provisioning.nu and the `prvng` protocol module. */
export const BUNDLED_NU_DIR = join(PACKAGE_ROOT, 'nu');

export function bundledNuPath(): string {
  const pkg = `@nushell/${process.platform}-${process.arch}/package.json`;
  return join(dirname(require.resolve(pkg)), 'bin', process.platform === 'win32' ? 'nu.exe' : 'nu');
}

/**
 * Runs Nushell scripts the one safe way (DESIGN.md section 4): the platform binary with
 * no config, plugins or std lib; the request as JSON on stdin; the answer read from a
 * result file; a minimal environment; the whole process group killed on timeout,
 * cancellation, or when the script exits leaving children behind.
 */
export class NushellRunner {
  readonly nuPath: string;
  readonly libDir: string;
  private readonly timeoutMs: number;
  private readonly outputCapBytes: number;
  private readonly maxResultBytes: number;
  private readonly home: string;
  private readonly sandbox: Sandbox;

  constructor(options: NushellRunnerOptions = {}) {
    this.sandbox = options.sandbox ?? 'process';
    this.nuPath = options.nuPath ?? bundledNuPath();
    this.libDir = options.libDir ?? join(BUNDLED_NU_DIR, 'lib');
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.outputCapBytes = options.outputCapBytes ?? 64 * 1024;
    this.maxResultBytes = options.maxResultBytes ?? 8 * 1024 * 1024;
    // A private, empty HOME: nothing of the worker user's files leaks in through `~`.
    this.home = mkdtempSync(join(tmpdir(), 'prvng-nu-home-'));
  }

  /** Run `script subcommand` with `request` on stdin and return the envelope's data. */
  async run<T>(script: string, subcommand: Subcommand, request: object, options: RunOptions = {}): Promise<RunResult<T>> {
    if (!SUBCOMMANDS.includes(subcommand)) throw new Error(`unknown subcommand ${subcommand}`);
    const scratch = await mkdtemp(join(tmpdir(), 'prvng-run-'));
    const resultFile = join(scratch, 'result.json');
    const command = `nu ${script} ${subcommand}`;
    const started = performance.now();
    try {
      const outcome = await this.spawn(script, subcommand, { ...request, result_file: resultFile }, options);
      const durationMs = performance.now() - started;
      const envelope = await this.readEnvelope(resultFile);
      if (outcome.spawnError) {
        throw new ScriptFailure(`cannot run ${this.nuPath}: ${outcome.spawnError}`, { command, nu_path: this.nuPath });
      }
      const facts = {
        command,
        exit_code: outcome.exitCode,
        signal: outcome.signal,
        stderr_tail: tail(outcome.stderr, 2000),
      };
      if (outcome.timedOut) {
        throw new ScriptFailure(`${command} timed out after ${options.timeoutMs ?? this.timeoutMs} ms and was killed`, facts, true);
      }
      if (outcome.aborted) throw new ScriptFailure(`${command} was cancelled and killed`, facts, true);
      if (envelope === undefined) {
        const why = outcome.exitCode === 0 ? 'exited 0 without writing a result' : `exited with ${outcome.signal ?? `code ${outcome.exitCode}`}`;
        // Killed by a signal (OOM killer, a crash): worth another try. An exit code is the script's answer.
        throw new ScriptFailure(`${command} ${why}${stderrHint(outcome.stderr)}`, facts, outcome.signal !== null);
      }
      if (!envelope.ok) {
        throw new ScriptFailure(`${command} failed: ${envelope.error?.message ?? 'no message'}`, { ...facts, script_error: envelope.error });
      }
      return { data: envelope.data as T, durationMs, stdoutTail: outcome.stdout, stderrTail: outcome.stderr };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Remove the private HOME. */
  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }

  private async spawn(script: string, subcommand: Subcommand, request: object, options: RunOptions) {
    const args = ['-n', '--no-std-lib', '--no-history', '--stdin', '-I', this.libDir, script, ...subcommand.split(' ')];
    // unshare execs nu in place: same pid, same process group, so the group kill still applies.
    const [file, argv] = this.sandbox === 'no-network' ? ['unshare', ['--net', '--map-root-user', this.nuPath, ...args]] : [this.nuPath, args];
    const child = execa(file, argv, {
      input: JSON.stringify(request),
      cwd: options.cwd ?? dirname(script),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.home,
        LANG: process.env.LANG ?? 'C.UTF-8',
        NO_COLOR: '1',
        ...options.env,
      },
      extendEnv: false,
      detached: true, // its own process group, so the group can be killed as one
      buffer: false,
      reject: false,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const stdout = new TailBuffer(this.outputCapBytes);
    const stderr = new TailBuffer(this.outputCapBytes);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    let aborted = false;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs ?? this.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Whatever the script left running in its group dies with it; otherwise a
    // background child would hold the pipes open and this call would hang.
    child.on('exit', killGroup);
    try {
      const result = await child;
      return {
        spawnError: (result as { code?: string }).code === 'ENOENT' || (result as { code?: string }).code === 'EACCES' ? (result as { code?: string }).code : undefined,
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        timedOut,
        aborted,
        stdout: stdout.toString(),
        stderr: stderr.toString(),
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async readEnvelope(file: string): Promise<Envelope | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    if (text.length > this.maxResultBytes) {
      return { ok: false, error: { message: `result larger than ${this.maxResultBytes} bytes` } };
    }
    try {
      const parsed = JSON.parse(text) as Envelope;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.ok === 'boolean'
        ? parsed
        : { ok: false, error: { message: 'result is not a {ok, data} envelope' } };
    } catch {
      return { ok: false, error: { message: 'result is not valid JSON' } };
    }
  }
}

interface Envelope {
  ok: boolean;
  data?: unknown;
  error?: { kind?: string; message?: string };
}

/** Keeps the last `cap` bytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.cap) this.size -= this.chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.cap)).toString('utf8');
  }
}

function tail(text: string, chars: number): string {
  return text.length > chars ? text.slice(-chars) : text;
}

function stderrHint(stderr: string): string {
  const last = stderr.trim().split('\n').slice(-6).join('\n');
  return last ? `:\n${last}` : '';
}

