/**
 * Fault tests with real processes (issue 7, part 1): a `prvng worker` SIGKILLed in the middle
 * of `executeInstallation`, the dev server stopped and started again under a running
 * workflow, and two workers where the one running the install dies. Each install is the
 * bundled `slowpoke` taskserv, which sleeps `install_seconds` between writing
 * `var/lib/slowpoke/install.pid` (the nu process) and `install.done`.
 *
 * The workers are `node bin/prvng.js worker` processes (the built CLI: `npm run build`).
 * Cases 1 and 3 use the shared dev server (the global setup); case 2 has a server of its own.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledFailure, Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startTaskservInstall } from '../../src/temporal/client.js';
import { progressQuery, type TaskservInstallResult } from '../../workflows/definitions.js';
import type { TaskservInstall } from '../../workflows/index.js';
import { tempDir } from '../support/library.js';
import {
  alive,
  assertBuilt,
  DedicatedServer,
  fileTree,
  freePort,
  groupMembers,
  killGroup,
  procStat,
  ScriptMonitor,
  waitFor,
  within,
  WorkerProcess,
} from './support.js';

const SHARED_ADDRESS = `127.0.0.1:${process.env.TEMPORAL_PORT ?? '7233'}`;
/** Long enough to be caught mid-install, short enough to keep each case well under a minute. */
const INSTALL_SECONDS = 8;
/**
 * A dead worker's script step is retried once its heartbeat timeout (5 s) expires, counted from
 * the last heartbeat the server recorded (sent at most every 4 s): 1-5 s after the kill, plus
 * retry backoff (0.5 s), polling and a loaded 2-core machine. Start-to-close (15 min) would not be.
 */
const RETRY_BOUND_MS = 12_000;
/** Heartbeat timeout of script steps (5 s) + retry backoff + a new worker + the install + slack. */
const RESULT_TIMEOUT_MS = 90_000;

const EventType = temporal.api.enums.v1.EventType;
const TimeoutType = temporal.api.enums.v1.TimeoutType;

/** Every worker and orphaned script a test started: killed after each test, pass or fail. */
const workers: WorkerProcess[] = [];
const orphanGroups = new Set<number>();
/** What the tests saw, printed at the end for the record (orphans, timings). */
const findings: Record<string, unknown> = {};

function worker(taskQueue: string, dataDir: string, address = SHARED_ADDRESS): WorkerProcess {
  const w = new WorkerProcess({ taskQueue, dataDir, address });
  workers.push(w);
  return w;
}

beforeAll(() => assertBuilt());

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill9()));
  for (const pgid of orphanGroups) killGroup(pgid);
  orphanGroups.clear();
});

afterAll(() => {
  console.log(`fault test findings: ${JSON.stringify(findings, null, 2)}`);
});

/** A data dir for one test: removed when the test passes, kept (and named) for a look when it fails. */
function scratch(what: string): string {
  const dir = tempDir(what);
  onTestFinished((ctx) => {
    if (ctx.task.result?.state === 'pass') rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} of the failed test`);
  });
  return dir;
}

const srvName = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

function targetRoot(dataDir: string, server: string): string {
  return join(dataDir, 'targets', server);
}

async function connect(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }) });
}

/** Start slowpoke's install through the product's client; the handle and the run it started. */
async function startSlowpoke(client: Client, taskQueue: string, server: string, seconds = INSTALL_SECONDS) {
  const started = await startTaskservInstall(client, { name: 'slowpoke', target: { provider: 'local', server }, settings: { install_seconds: seconds } }, { taskQueue });
  expect(started.attached).toBe(false);
  return { handle: started.handle, runId: started.runId };
}

/** The nu process running slowpoke's install, once it has written its pid file. */
async function installScriptPid(root: string, notPid?: number): Promise<number> {
  const file = join(root, 'var/lib/slowpoke/install.pid');
  let pid = 0;
  await waitFor(
    () => {
      if (!existsSync(file)) return false;
      pid = Number(readFileSync(file, 'utf8').trim());
      return pid > 0 && pid !== notPid;
    },
    30_000,
    `${file}${notPid ? ` naming a process other than ${notPid}` : ''}`,
  );
  return pid;
}

interface InstallAttempt {
  attempt: number;
  identity: string;
  lastFailureTimeout: number | null | undefined;
}

/** The install activity as the history records it: how often it was scheduled, and its last attempt. */
async function installActivity(handle: WorkflowHandle): Promise<{ scheduled: number; started: InstallAttempt[]; completed: number }> {
  const { events } = await handle.fetchHistory();
  const scheduledIds = new Set<string>();
  const started: InstallAttempt[] = [];
  let completed = 0;
  for (const e of events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeInstallation') {
      scheduledIds.add(String(e.eventId));
    }
    const s = e.activityTaskStartedEventAttributes;
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && s && scheduledIds.has(String(s.scheduledEventId))) {
      started.push({ attempt: s.attempt ?? 0, identity: s.identity ?? '', lastFailureTimeout: s.lastFailure?.timeoutFailureInfo?.timeoutType });
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && c && scheduledIds.has(String(c.scheduledEventId))) completed++;
  }
  return { scheduled: scheduledIds.size, started, completed };
}

/** What the workflow was doing when a result did not come: for the failure message. */
async function diagnose(handle: WorkflowHandle, workers: WorkerProcess[]): Promise<string> {
  const lines: string[] = [];
  try {
    const desc = await handle.describe();
    lines.push(`status ${desc.status.name}`);
    for (const a of desc.raw.pendingActivities ?? []) {
      lines.push(`pending ${a.activityType?.name} state ${a.state} attempt ${a.attempt} last worker ${a.lastWorkerIdentity} last failure ${a.lastFailure?.message ?? '-'}`);
    }
    const wft = desc.raw.pendingWorkflowTask;
    if (wft) lines.push(`pending workflow task state ${wft.state} attempt ${wft.attempt}`);
    const { events } = await handle.fetchHistory();
    for (const e of (events ?? []).slice(-12)) lines.push(`event ${e.eventId} ${EventType[e.eventType ?? 0]}`);
  } catch (err) {
    lines.push(`describe failed: ${err}`);
  }
  for (const w of workers) lines.push(`worker ${w.pid} running=${w.running} log tail:\n${w.log.split('\n').slice(-10).join('\n')}`);
  return lines.join('\n');
}

/** The history as `+<seconds> EVENT_TYPE (activity, attempt)` lines. */
async function timeline(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  const t0 = Number(events?.[0]?.eventTime?.seconds ?? 0) * 1000 + (events?.[0]?.eventTime?.nanos ?? 0) / 1e6;
  return (events ?? []).map((e) => {
    const t = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    const what = e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.activityTaskStartedEventAttributes?.attempt ?? '';
    return `+${((t - t0) / 1000).toFixed(2)} ${EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '')} ${what}`.trim();
  });
}

/** The result, or a failure that says where the workflow stood. */
async function resultWithin(handle: WorkflowHandle<typeof TaskservInstall>, ms: number, what: string, ws: WorkerProcess[]): Promise<TaskservInstallResult> {
  try {
    return await within(handle.result(), ms, what);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : err}\n${await diagnose(handle, ws)}`);
  }
}

/**
 * The install's side effects happened once: one receipt, naming this run; the installed
 * files are exactly the receipt's, recorded once; the target holds the same files as a
 * target that was never interrupted (`referenceTree`); the files' contents are whole.
 */
function expectInstalledOnce(root: string, result: TaskservInstallResult, runId: string, referenceTree: string[]): void {
  expect(result.status).toBe('installed');
  expect(result.checks.length).toBeGreaterThan(0);
  expect(result.checks.every((c) => c.ok)).toBe(true);

  // One receipt, and no temp file of a receipt write cut short.
  expect(readdirSync(join(root, 'var/lib/prvng/receipts'))).toEqual(['slowpoke.json']);
  const receipt = JSON.parse(readFileSync(join(root, 'var/lib/prvng/receipts/slowpoke.json'), 'utf8'));
  expect(receipt.run_id).toBe(runId);
  expect(receipt.workflow_id).toBe(`taskserv-install/local/${result.target.server}/slowpoke`);
  expect(receipt.verified_at).not.toBeNull();
  expect(receipt.files).toEqual(result.files);
  expect(new Set(receipt.files).size).toBe(receipt.files.length);
  expect(receipt.files).toEqual(['etc/slowpoke/slowpoke.toml']);

  // The install record of the nu side says the same, once.
  const record = JSON.parse(readFileSync(join(root, 'var/lib/prvng/taskservs/slowpoke.files.json'), 'utf8'));
  expect(record).toEqual({ name: 'slowpoke', version: '1.0.0', files: receipt.files });

  // The installed files (outside prvng's and slowpoke's own state) are exactly the receipt's.
  const tree = fileTree(root);
  expect(tree.filter((f) => !f.startsWith('var/lib/'))).toEqual(receipt.files);
  expect(tree).toEqual(referenceTree);

  // Contents whole, nothing appended twice.
  expect(readFileSync(join(root, 'etc/slowpoke/slowpoke.toml'), 'utf8')).toBe(`install_seconds = ${INSTALL_SECONDS}\n`);
  expect(readFileSync(join(root, 'var/lib/slowpoke/install.done'), 'utf8')).toBe('slowpoke 1.0.0\n');
}

/** Every line of the audit log is a whole JSON record: a worker killed mid-write must not tear one. */
function expectAuditWhole(dataDir: string): void {
  const file = join(dataDir, 'audit.jsonl');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
}

/** A target installed without any fault, through `w`: what a crash-free install leaves. */
async function referenceInstall(client: Client, w: WorkerProcess): Promise<string[]> {
  const server = srvName('reference');
  const { handle } = await startSlowpoke(client, w.options.taskQueue, server, 0);
  const result = await resultWithin(handle, RESULT_TIMEOUT_MS, 'reference install', [w]);
  expect(result.status).toBe('installed');
  return fileTree(targetRoot(w.options.dataDir, server));
}

/**
 * Kill `victim` while its nu script runs; report whether the script outlived it. The script
 * leads its own process group (the runner spawns it detached), so SIGKILL of the worker
 * does not reach it.
 */
async function killWorkerMidInstall(victim: WorkerProcess, scriptPid: number, label: string) {
  expect(procStat(scriptPid)?.ppid).toBe(victim.pid);
  expect(procStat(scriptPid)?.pgid).toBe(scriptPid);
  await victim.kill9();
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  const orphan = alive(scriptPid);
  if (orphan) orphanGroups.add(scriptPid);
  findings[label] = {
    worker_pid: victim.pid,
    script_pid: scriptPid,
    script_alive_after_worker_sigkill: orphan,
    script_parent_after: procStat(scriptPid)?.ppid ?? null,
    script_group_members_after: groupMembers(scriptPid),
  };
  return { killedAt, orphan };
}

describe('faults with real processes', () => {
  it(
    'kill -9 of the worker during executeInstallation: a new worker on the same queue and data dir completes it, side effects once',
    async () => {
      const taskQueue = `faults-${randomUUID()}`;
      const dataDir = scratch('faults-kill');
      const client = await connect(SHARED_ADDRESS);
      try {
        const first = await worker(taskQueue, dataDir).ready();
        const server = srvName('kill9');
        const root = targetRoot(dataDir, server);
        const started = Date.now();
        const { handle, runId } = await startSlowpoke(client, taskQueue, server);
        const scripts = new ScriptMonitor(join(root, 'var/lib/slowpoke/install.pid'));

        const scriptPid = await installScriptPid(root);
        // Mid-install: the script sleeps; nothing installed yet.
        expect(existsSync(join(root, 'var/lib/slowpoke/install.done'))).toBe(false);
        expect(existsSync(join(root, 'etc/slowpoke/slowpoke.toml'))).toBe(false);
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        expect(pending.map((a) => a.activityType?.name)).toEqual(['executeInstallation']);
        expect(pending[0]!.lastWorkerIdentity).toBe(first.identity);

        const { killedAt, orphan } = await killWorkerMidInstall(first, scriptPid, 'kill9_single_worker');
        const second = await worker(taskQueue, dataDir).ready();
        // The retry runs a new script (it rewrites the pid file), on the new worker.
        const retryPid = await installScriptPid(root, scriptPid);
        const retryAfterMs = Date.now() - killedAt;
        expect(procStat(retryPid)?.ppid).toBe(second.pid);
        Object.assign(findings.kill9_single_worker as object, { retry_started_after_kill_ms: retryAfterMs, script_alive_when_retry_started: orphan && alive(scriptPid) });
        // The dead worker's attempt was given up after the heartbeat timeout (5 s), not start-to-close.
        expect(retryAfterMs).toBeLessThan(RETRY_BOUND_MS);

        const result = await resultWithin(handle, RESULT_TIMEOUT_MS, 'the workflow after the kill', [first, second]);
        const finished = Date.now();

        const activity = await installActivity(handle);
        expect(activity.scheduled).toBe(1);
        expect(activity.completed).toBe(1);
        expect(activity.started).toEqual([{ attempt: 2, identity: second.identity, lastFailureTimeout: TimeoutType.TIMEOUT_TYPE_HEARTBEAT }]);
        expect(result.receipt.run_id).toBe(runId);

        const reference = await referenceInstall(client, second);
        expectInstalledOnce(root, result, runId, reference);
        expectAuditWhole(dataDir);
        expect(second.running).toBe(true);
        Object.assign(findings.kill9_single_worker as object, { install_scripts: scripts.stop(), workflow_seconds: (finished - started) / 1000, after_kill_seconds: (finished - killedAt) / 1000 });
      } finally {
        await client.connection.close();
      }
    },
    150_000,
  );

  it(
    'two workers on the queue: the one running the install is killed, the other finishes it, side effects once',
    async () => {
      const taskQueue = `faults-${randomUUID()}`;
      const dataDir = scratch('faults-two');
      const client = await connect(SHARED_ADDRESS);
      try {
        const pair = await Promise.all([worker(taskQueue, dataDir).ready(), worker(taskQueue, dataDir).ready()]);
        const server = srvName('two');
        const root = targetRoot(dataDir, server);
        const started = Date.now();
        const { handle, runId } = await startSlowpoke(client, taskQueue, server);
        const scripts = new ScriptMonitor(join(root, 'var/lib/slowpoke/install.pid'));

        const scriptPid = await installScriptPid(root);
        // Which worker runs it: the parent of the nu process.
        const victim = pair.find((w) => w.pid === procStat(scriptPid)?.ppid);
        expect(victim, `parent ${procStat(scriptPid)?.ppid} of script ${scriptPid} is one of the workers ${pair.map((w) => w.pid)}`).toBeDefined();
        const survivor = pair.find((w) => w !== victim)!;
        expect(existsSync(join(root, 'var/lib/slowpoke/install.done'))).toBe(false);

        const { killedAt, orphan } = await killWorkerMidInstall(victim!, scriptPid, 'kill9_one_of_two_workers');
        const retryPid = await installScriptPid(root, scriptPid);
        const retryAfterMs = Date.now() - killedAt;
        expect(procStat(retryPid)?.ppid).toBe(survivor.pid);
        Object.assign(findings.kill9_one_of_two_workers as object, { retry_started_after_kill_ms: retryAfterMs, script_alive_when_retry_started: orphan && alive(scriptPid) });
        expect(retryAfterMs).toBeLessThan(RETRY_BOUND_MS);

        const result = await resultWithin(handle, RESULT_TIMEOUT_MS, 'the workflow after the kill', pair);
        const finished = Date.now();

        const activity = await installActivity(handle);
        expect(activity.scheduled).toBe(1);
        expect(activity.completed).toBe(1);
        expect(activity.started).toEqual([{ attempt: 2, identity: survivor.identity, lastFailureTimeout: TimeoutType.TIMEOUT_TYPE_HEARTBEAT }]);

        const reference = await referenceInstall(client, survivor);
        expectInstalledOnce(root, result, runId, reference);
        expectAuditWhole(dataDir);
        expect(survivor.running).toBe(true);
        Object.assign(findings.kill9_one_of_two_workers as object, { install_scripts: scripts.stop(), workflow_seconds: (finished - started) / 1000, after_kill_seconds: (finished - killedAt) / 1000 });
      } finally {
        await client.connection.close();
      }
    },
    150_000,
  );

  describe('the dev server stops and starts again (same SQLite file) under a running workflow', () => {
    let server: DedicatedServer;
    let restartPassed = false;

    beforeAll(async () => {
      server = new DedicatedServer(await freePort(), await freePort(), tempDir('faults-server'));
      await server.start();
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      if (server && !(await server.serving()) && restartPassed) rmSync(server.dataDir, { recursive: true, force: true });
    }, 60_000);

    it(
      'the workflow completes, the same worker reconnects by itself, side effects once',
      async () => {
        const taskQueue = `faults-${randomUUID()}`;
        const dataDir = scratch('faults-restart');
        const w = await worker(taskQueue, dataDir, server.address).ready();
        let client = await connect(server.address);
        const name = srvName('restart');
        const root = targetRoot(dataDir, name);
        const { handle, runId } = await startSlowpoke(client, taskQueue, name);
        const { workflowId } = handle;
        const scripts = new ScriptMonitor(join(root, 'var/lib/slowpoke/install.pid'));
        const scriptPid = await installScriptPid(root);
        await client.connection.close();

        const firstServer = server.pid();
        const stoppedAt = Date.now();
        await server.stop();
        expect(server.pid()).toBeUndefined();
        expect(await server.serving()).toBe(false);
        // Down long enough for the worker's polls and heartbeats to fail.
        await new Promise((r) => setTimeout(r, 3_000));
        expect(w.running).toBe(true);
        const scriptAliveWhileDown = alive(scriptPid);

        await server.start();
        const downSeconds = (Date.now() - stoppedAt) / 1000;
        expect(server.pid()).toBeDefined();
        expect(server.pid()).not.toBe(firstServer);
        client = await connect(server.address);
        try {
          // The same run, from the same SQLite file.
          const after = client.workflow.getHandle<typeof TaskservInstall>(workflowId, runId);
          const result = await resultWithin(after, RESULT_TIMEOUT_MS, 'the workflow after the server restart', [w]);
          const activity = await installActivity(after);
          expect(activity.scheduled).toBe(1);
          expect(activity.completed).toBe(1);
          expect(activity.started).toHaveLength(1);
          expect(activity.started[0]!.identity).toBe(w.identity);

          // The one worker did all of it: it reconnected on its own, without a restart.
          expect(w.running).toBe(true);
          const reference = await referenceInstall(client, w);
          expectInstalledOnce(root, result, runId, reference);
          expectAuditWhole(dataDir);
          findings.server_restart = {
            server_down_seconds: downSeconds,
            script_alive_while_server_down: scriptAliveWhileDown,
            install_scripts: scripts.stop(),
            install_attempt_that_completed: activity.started[0]!.attempt,
            last_failure_timeout_type: activity.started[0]!.lastFailureTimeout ?? null,
            // The SDK retries polls and heartbeats on its own, warning as it goes.
            worker_grpc_retry_warnings: w.log.split('\n').filter((l) => l.includes('retried')).length,
          };
          restartPassed = true;
        } finally {
          await client.connection.close();
        }
      },
      150_000,
    );
  });
});

/**
 * The runner spawns each script in a process group of its own (so a timeout can kill the
 * group), so SIGKILL of the worker does not reach the script. Before the next step of the
 * same taskserv on the same target (the retry, or the compensation) the orphan is killed
 * (src/script-lease.ts): nothing is written after the compensation, and never two install
 * scripts run on the target at once.
 */
describe('the script of a SIGKILLed worker', () => {
  it(
    'is killed before the compensation when the install is cancelled after its worker died: nothing is left',
    async () => {
      const taskQueue = `faults-${randomUUID()}`;
      const dataDir = scratch('faults-orphan');
      const client = await connect(SHARED_ADDRESS);
      try {
        const first = await worker(taskQueue, dataDir).ready();
        const server = srvName('orphan');
        const root = targetRoot(dataDir, server);
        // Long enough that the orphan ends well after the compensation (~16 s: the cancel waits out
        // the dead worker's sticky queue, 10 s, then the retry's next heartbeat, <= 4 s).
        const { handle } = await startSlowpoke(client, taskQueue, server, 25);
        const scripts = new ScriptMonitor(join(root, 'var/lib/slowpoke/install.pid'));
        const scriptPid = await installScriptPid(root);
        await killWorkerMidInstall(first, scriptPid, 'kill9_then_cancel');
        const second = await worker(taskQueue, dataDir).ready();
        await handle.cancel();
        const err = await within(handle.result(), RESULT_TIMEOUT_MS, 'the cancelled workflow').catch((e) => e);
        if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the workflow to end cancelled, got ${err}\n${await diagnose(handle, [first, second])}`);
        expect(err.cause).toBeInstanceOf(CancelledFailure);
        const progress = await handle.query(progressQuery);
        expect(progress.steps.find((s) => s.name === 'uninstall')?.status).toBe('compensated');
        const compensatedAt = Date.now();

        // Let the first script run to its end (it would, unattended, on a real machine).
        await waitFor(() => !alive(scriptPid), 40_000, `script ${scriptPid} to end`);
        const left = fileTree(root).filter((f) => !f.startsWith('var/lib/prvng/staging/'));
        const seen = scripts.stop();
        Object.assign(findings.kill9_then_cancel as object, {
          orphan_ended_after_compensation_ms: Date.now() - compensatedAt,
          left_on_target_after_orphan_ended: left,
          install_scripts: seen,
          history: await timeline(handle),
        });
        // Nothing written after the compensation; never two install scripts on the target at once.
        expect(left).toEqual([]);
        expect(seen.max_concurrent).toBe(1);
      } finally {
        await client.connection.close();
      }
    },
    150_000,
  );
});
