import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { makeLibrary, tempDir } from '../support/library.js';

/** The built CLI, as a user runs it (`npx prvng` runs bin/prvng.js). */
const lib = makeLibrary([
  { name: 'etcd', version: '3.4.27' },
  { name: 'etcd', version: '3.5.12', description: 'etcd distributed key-value store' },
  { name: 'broken', version: '1.0.0', manifest: 'name = "broken"\nversion = "1.0.0"\n' },
]);

function prvng(...args: string[]) {
  return execa(process.execPath, [join(PACKAGE_ROOT, 'bin/prvng.js'), '--extensions-dir', lib, ...args], {
    reject: false,
    env: { PRVNG_DATA_DIR: tempDir('cli') },
  });
}

describe('prvng CLI', () => {
  it('module discover --output json lists every manifest, the broken one as an entry', async () => {
    const { exitCode, stdout } = await prvng('module', 'discover', 'taskserv', '--output', 'json');
    expect(exitCode).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.success).toBe(true);
    expect(body.data.map((e: { ok: boolean; metadata?: { version: string }; name?: string }) => (e.ok ? e.metadata!.version : `broken:${e.name}`))).toEqual([
      'broken:broken',
      '3.4.27',
      '3.5.12',
    ]);
    expect(body.data[0].error).toMatchObject({ kind: 'InvalidMetadata', field: 'description' });
  });

  it('module discover prints a table by default, and --name narrows it', async () => {
    const { exitCode, stdout } = await prvng('module', 'discover', 'TASKSERV', '--name', 'etcd');
    expect(exitCode).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+STATUS\s+DEPENDENCIES\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['etcd 3.4.27 ok', 'etcd 3.5.12 ok']);
  });

  it('module load prints the extension in the reference JSON shape', async () => {
    const { exitCode, stdout } = await prvng('module', 'load', 'taskserv', 'etcd', '-o', 'json');
    expect(exitCode).toBe(0);
    const { data } = JSON.parse(stdout);
    expect(data.metadata).toEqual({
      name: 'etcd',
      version: '3.5.12',
      description: 'etcd distributed key-value store',
      extension_type: 'Taskserv',
      dependencies: [],
      author: 'tests',
      repository: null,
    });
    expect(Object.keys(data)).toEqual(['metadata', 'path', 'loaded_at', 'content_hash', 'snapshot_dir']);
  });

  it.each([
    [['module', 'load', 'taskserv', 'etcd', '--version', '9.9.9'], 'VersionNotFound'],
    [['module', 'load', 'taskserv', 'nope'], 'ExtensionNotFound'],
    [['module', 'load', 'taskserv', '../../etc'], 'InvalidInput'],
    [['module', 'load', 'plugin', 'etcd'], 'InvalidInput'],
    [['module', 'load', 'taskserv', 'broken'], 'InvalidMetadata'],
  ])('a user error exits 2 with the error JSON: %j', async (args, kind) => {
    const { exitCode, stdout } = await prvng(...args, '-o', 'json');
    expect(exitCode).toBe(2);
    const body = JSON.parse(stdout);
    expect(body.success).toBe(false);
    expect(body.error.kind).toBe(kind);
    expect(body.error.message.length).toBeGreaterThan(10);
  });

  it('anything else exits 1', async () => {
    const { exitCode, stdout } = await execa(process.execPath, [join(PACKAGE_ROOT, 'bin/prvng.js'), 'module', 'load', 'taskserv', 'etcd', '-o', 'json'], {
      reject: false,
      env: { PRVNG_DATA_DIR: tempDir('cli'), PRVNG_EXTENSIONS_DIR: lib, PRVNG_NU_PATH: '/bin/false' },
    });
    expect(exitCode).toBe(1);
    expect(JSON.parse(stdout).error.kind).toBe('LoadFailure');
  });

  it('--help works', async () => {
    const { exitCode, stdout } = await execa(process.execPath, [join(PACKAGE_ROOT, 'bin/prvng.js'), '--help']);
    expect(exitCode).toBe(0);
    for (const command of ['module', 'worker', 'install', 'extensions']) expect(stdout).toContain(command);
  });
});
