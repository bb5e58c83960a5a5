import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

interface LeaseRecord {
  pgid: number;
  /** Field 22 of /proc/<pgid>/stat when the script started: tells a reused pid apart. */
  start_ticks: string;
  host: string;
  worker_pid: number;
  step: string;
}

/**
 * At most one script per taskserv and target at a time. The runner starts each script in a
 * process group of its own (so a timeout can kill the group), which also means a worker
 * killed with SIGKILL leaves its script running: an orphan that goes on writing to the
 * target while Temporal retries the step, or compensates, on another worker. The lease file
 * names the running script's process group; the next step of the same taskserv on the same
 * target kills a group that is still there before it starts. Only on the same host: a group
 * on another machine cannot be signalled from here.
 */
export class ScriptLease {
  constructor(readonly file: string) {}

  /** Kill the group a previous holder left running, and wait until it is gone. Returns its pgid. */
  async reapPrevious(timeoutMs = 10_000): Promise<number | undefined> {
    const held = this.read();
    if (!held || held.host !== hostname() || !groupRunning(held.pgid)) return undefined;
    // The leader still runs: it must be the process the lease names, not a reused pid. (With the
    // leader gone the group id cannot have been reused: Linux hands out no pid of a live group.)
    const start = startTicks(held.pgid);
    if (start !== undefined && start !== held.start_ticks) return undefined;
    // The file sits under the target, where scripts write: never kill our own group, nor a
    // group whose leader is not a script runner.
    if (held.pgid === process.pid || String(held.pgid) === statFields(process.pid)?.[2]) return undefined;
    if (start !== undefined && !/^(nu|unshare)$/.test(command(held.pgid))) return undefined;
    try {
      process.kill(-held.pgid, 'SIGKILL');
    } catch {
      return undefined;
    }
    const deadline = Date.now() + timeoutMs;
    while (groupRunning(held.pgid)) {
      if (Date.now() > deadline) throw new Error(`process group ${held.pgid} (${this.file}) survived SIGKILL for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return held.pgid;
  }

  /** Record the script just spawned (synchronously: a crash right after must still find it). */
  hold(pgid: number, step: string): void {
    const record: LeaseRecord = { pgid, start_ticks: startTicks(pgid) ?? '', host: hostname(), worker_pid: process.pid, step };
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(record));
  }

  /** Drop the lease if it is still ours (a later step may have taken it over). */
  release(pgid: number): void {
    if (this.read()?.pgid === pgid) rmSync(this.file, { force: true });
  }

  private read(): LeaseRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(this.file, 'utf8')) as LeaseRecord;
      return Number.isInteger(record.pgid) && record.pgid > 1 ? record : undefined;
    } catch {
      return undefined;
    }
  }
}

function command(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Fields of /proc/<pid>/stat after the command: [0] state, [2] process group, [19] start time. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function startTicks(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Some process of the group runs (zombies, waiting to be reaped, do not count). */
function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readdirSync('/proc').some((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      const rest = statFields(Number(entry));
      return rest !== undefined && Number(rest[2]) === pgid && rest[0] !== 'Z';
    });
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
