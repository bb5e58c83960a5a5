import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export interface WorkerProcessOptions {
  taskQueue?: string;
  dataDir?: string;
  extensionsDir?: string;
  /** `host:port` of its HTTP API; none when omitted. */
  api?: string;
  autoLoad?: boolean;
}

/** A `prvng worker` in a process of its own (as operators run it): for multi-worker tests, faults and RSS. */
export class WorkerProcess {
  readonly taskQueue: string;
  readonly dataDir: string;
  private child: ChildProcess | undefined;

  constructor(private readonly options: WorkerProcessOptions = {}) {
    this.taskQueue = options.taskQueue ?? `wp-${randomUUID().slice(0, 8)}`;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'prvng-worker-'));
  }

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<void> {
    const args = [join(PACKAGE_ROOT, 'bin/prvng.js'), 'worker', '--task-queue', this.taskQueue, ...(this.options.api ? [] : ['--no-api'])];
    this.child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        PRVNG_DATA_DIR: this.dataDir,
        PRVNG_AUTO_LOAD: String(this.options.autoLoad ?? false),
        PRVNG_SDK_METRICS_LISTEN: 'off',
        ...(this.options.api ? { PRVNG_API_LISTEN: this.options.api } : {}),
        ...(this.options.extensionsDir ? { PRVNG_EXTENSIONS_DIR: this.options.extensionsDir } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      this.child!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // polling, and the API (when asked for) listening
        if (output.includes('polling') && (!this.options.api || output.includes('API listening'))) resolve();
      });
      this.child!.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
    });
  }

  /** VmHWM: the peak resident set size of the worker process, in MB. */
  peakRssMb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Math.round((Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024) * 10) / 10;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child!.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}
