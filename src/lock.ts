import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ChecksumMismatch, InvalidMetadata, LockDrift } from './errors.js';
import type { Constraint, Resolution } from './resolver.js';
import type { Receipt, Target } from './targets.js';

/**
 * `prvng.lock`, one per target (as Terraform's lock file): the exact version chosen for
 * each taskserv, the constraints that chose it, its content hash and the workflow that
 * installed it. A locked selection wins over "latest" until an upgrade.
 */
export interface LockedPackage {
  version: string;
  content_hash: string;
  constraints: Constraint[];
  installed_by: string | null;
}

export interface LockFile {
  lock_version: 1;
  target: { provider: string; server: string };
  updated_at: string;
  packages: Record<string, LockedPackage>;
}

export function lockPath(target: Target): string {
  return join(target.root, 'var', 'lib', 'prvng', 'prvng.lock');
}

export async function readLock(target: Target): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath(target), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const lock = JSON.parse(text) as LockFile;
    if (lock.lock_version !== 1 || typeof lock.packages !== 'object') throw new Error('unknown lock_version');
    return lock;
  } catch (err) {
    throw new InvalidMetadata(`${lockPath(target)}: not a prvng lock file (${(err as Error).message})`, { file: lockPath(target), field: '(lock)' });
  }
}

/**
 * The locked versions, as the resolver takes them: the lock's entries, and what the
 * target's receipts say is installed where the lock has no entry (a taskserv installed
 * on its own is kept at its version until an upgrade, too).
 */
export function lockedVersions(lock: LockFile | undefined, receipts: readonly Receipt[] = []): Record<string, string> {
  return {
    ...Object.fromEntries(receipts.map((r) => [r.name, r.version])),
    ...Object.fromEntries(Object.entries(lock?.packages ?? {}).map(([name, p]) => [name, p.version])),
  };
}

/** `--frozen`: fail when the resolution would change any locked entry or add one. */
export function assertFrozen(lock: LockFile | undefined, resolution: Resolution): void {
  const changes = resolution.packages.flatMap((p) => {
    const locked = lock?.packages[p.name];
    if (!locked) return [`${p.name} would be added at ${p.version}`];
    return locked.version === p.version ? [] : [`${p.name} ${locked.version} -> ${p.version}`];
  });
  if (changes.length) throw new LockDrift(`--frozen: resolving would change the lock: ${changes.join('; ')}`, { changes });
}

/** A locked extension whose files no longer match the recorded hash. */
export function assertChecksums(lock: LockFile | undefined, hashes: Record<string, { version: string; content_hash: string }>): void {
  for (const [name, current] of Object.entries(hashes)) {
    const locked = lock?.packages[name];
    if (locked && locked.version === current.version && locked.content_hash !== current.content_hash) {
      throw new ChecksumMismatch(
        `${name}@${current.version} does not match the lock: locked ${locked.content_hash.slice(0, 12)}, library has ${current.content_hash.slice(0, 12)} (its files changed; --upgrade re-locks it)`,
        { name, version: current.version, locked: locked.content_hash, found: current.content_hash },
      );
    }
  }
}

/** Writers of one lock file in this process, one at a time (read, merge, rename). */
const writers = new Map<string, Promise<unknown>>();

/** Merge installed packages into the lock and write it atomically. */
export function writeLock(target: Target, entries: Record<string, LockedPackage>): Promise<LockFile> {
  const file = lockPath(target);
  const next = (writers.get(file) ?? Promise.resolve()).catch(() => undefined).then(() => mergeLock(target, entries));
  writers.set(file, next);
  return next.finally(() => {
    if (writers.get(file) === next) writers.delete(file);
  });
}

async function mergeLock(target: Target, entries: Record<string, LockedPackage>): Promise<LockFile> {
  const previous = await readLock(target);
  const lock: LockFile = {
    lock_version: 1,
    target: { provider: target.provider, server: target.server },
    updated_at: new Date().toISOString(),
    packages: Object.fromEntries(Object.entries({ ...previous?.packages, ...entries }).sort(([a], [b]) => a.localeCompare(b))),
  };
  const file = lockPath(target);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(lock, null, 2)}\n`);
  await rename(temp, file);
  return lock;
}
