import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChecksumMismatch, LockDrift } from '../../src/errors.js';
import { lockInstalled, planInstall } from '../../src/install-plan.js';
import { readLock } from '../../src/lock.js';
import { ExtensionManager } from '../../src/manager.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { Targets } from '../../src/targets.js';
import { addExtension, makeLibrary, tempDir } from '../support/library.js';

const managers: ExtensionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

/** A library with lib-x 1.0.0 and a cluster using it, a target, and a plan recorded in its lock. */
async function lockedSetup() {
  const local = join(PACKAGE_ROOT, 'extensions/providers/local/1.0.0');
  const library = makeLibrary([
    { type: 'provider', name: 'local', version: '1.0.0', main: readFileSync(join(local, 'main.nu'), 'utf8'), manifest: readFileSync(join(local, 'extension.toml'), 'utf8') },
    { name: 'lib-x', version: '1.0.0' },
    { type: 'cluster', name: 'app', version: '1.0.0', dependencies: ['lib-x@^1.0.0'] },
  ]);
  const data = tempDir('data');
  const manager = new ExtensionManager({ extensionsDir: library, cacheDir: join(data, 'cache') });
  managers.push(manager);
  const targets = new Targets(manager, join(data, 'targets'));
  const target = await targets.resolve({ provider: 'local', server: 'locked' });
  const plan = await planInstall(manager, targets, target, { type: 'cluster', name: 'app' });
  await lockInstalled(target, plan, ['lib-x'], 'wf-1');
  return { library, manager, targets, target };
}

describe('prvng.lock', () => {
  it('records exact versions, the constraints that chose them, hashes and the installing workflow', async () => {
    const { target } = await lockedSetup();
    const lock = await readLock(target);
    expect(lock?.packages['lib-x']).toMatchObject({ version: '1.0.0', constraints: [{ range: '^1.0.0', required_by: 'app@1.0.0' }], installed_by: 'wf-1' });
    expect(lock?.packages['lib-x']!.content_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a locked selection wins over a newer version until --upgrade', async () => {
    const { library, manager, targets, target } = await lockedSetup();
    addExtension(library, { name: 'lib-x', version: '1.1.0' });
    expect((await planInstall(manager, targets, target, { type: 'cluster', name: 'app' })).packages[0]!.version).toBe('1.0.0');
    expect((await planInstall(manager, targets, target, { type: 'cluster', name: 'app', upgrade: true })).packages[0]!.version).toBe('1.1.0');
  });

  it('--frozen passes while the lock holds and fails when resolution would change it', async () => {
    const { library, manager, targets, target } = await lockedSetup();
    addExtension(library, { name: 'lib-x', version: '1.1.0' });
    await expect(planInstall(manager, targets, target, { type: 'cluster', name: 'app', frozen: true })).resolves.toBeDefined();
    const err = await planInstall(manager, targets, target, { type: 'cluster', name: 'app', frozen: true, upgrade: true }).catch((e) => e);
    expect(err).toBeInstanceOf(LockDrift);
    expect(err.message).toBe('--frozen: resolving would change the lock: lib-x 1.0.0 -> 1.1.0');
  });

  it('an extension whose files no longer match the locked hash fails with ChecksumMismatch', async () => {
    const { library, manager, targets, target } = await lockedSetup();
    writeFileSync(join(library, 'taskservs/lib-x/1.0.0/main.nu'), '# tampered\ndef main [] {}\n');
    manager.clearCache();
    const err = await planInstall(manager, targets, target, { type: 'cluster', name: 'app' }).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumMismatch);
    expect(err.details).toMatchObject({ name: 'lib-x', version: '1.0.0' });
    // --upgrade re-resolves and re-locks instead
    await expect(planInstall(manager, targets, target, { type: 'cluster', name: 'app', upgrade: true })).resolves.toBeDefined();
  });
});
