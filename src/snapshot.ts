import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every regular file under `dir`, as sorted paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/**
 * sha256 over each file's relative path and content, in sorted order: the same files
 * give the same hash wherever the library lives.
 */
export async function contentHash(dir: string, files?: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files ?? (await listFiles(dir))) {
    const content = await readFile(join(dir, file));
    hash.update(`${file}\0${createHash('sha256').update(content).digest('hex')}\n`);
  }
  return hash.digest('hex');
}

/**
 * Content-addressed copy of an extension under `cacheDir/<hash>`: install steps run
 * these files, so an edit to the library during an install cannot change what runs.
 * Returns the snapshot folder; an existing snapshot is reused after checking its hash.
 */
export async function snapshot(sourceDir: string, hash: string, cacheDir: string): Promise<string> {
  const target = join(cacheDir, hash);
  if (await exists(target)) {
    if ((await contentHash(target)) === hash) return target;
    await rm(target, { recursive: true, force: true });
  }
  const staging = join(cacheDir, `.staging-${randomUUID()}`);
  await mkdir(cacheDir, { recursive: true });
  await cp(sourceDir, staging, { recursive: true });
  const copied = await contentHash(staging);
  if (copied !== hash) {
    await rm(staging, { recursive: true, force: true });
    throw new Error(`files of ${sourceDir} changed while they were being copied`);
  }
  try {
    await rename(staging, target);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (!(await exists(target))) throw err; // else another load created the same snapshot
  }
  return target;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
