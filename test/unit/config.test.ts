import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { InvalidInput } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { tempDir } from '../support/library.js';

function userFile(text: string): string {
  const file = join(tempDir('cfg'), 'prvng.toml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('defaults: the reference keys, cache_dir interpolated from data_dir', () => {
    const c = loadConfig({ env: {} });
    expect(c.orchestrator.extensions.auto_load).toBe(true);
    expect(c.orchestrator.extensions.cache_size).toBe(100);
    expect(c.orchestrator.paths.data_dir).toBe(join(PACKAGE_ROOT, '.data'));
    expect(c.orchestrator.extensions.cache_dir).toBe(join(PACKAGE_ROOT, '.data', 'extensions'));
    expect(c.orchestrator.extensions.extensions_dir).toBe(join(PACKAGE_ROOT, 'extensions'));
    expect(c.temporal.task_queue).toBe('provisioning');
    expect(c.api.listen).toBe('127.0.0.1:9090');
  });

  it('a user file overrides defaults, relative paths resolve against that file', () => {
    const file = userFile('[orchestrator.paths]\ndata_dir = "state"\n[orchestrator.extensions]\ncache_size = 7\nauto_load = false\n');
    const c = loadConfig({ file, env: {} });
    expect(c.orchestrator.extensions.cache_size).toBe(7);
    expect(c.orchestrator.extensions.auto_load).toBe(false);
    expect(c.orchestrator.extensions.cache_dir).toBe(join(file, '..', 'state', 'extensions'));
  });

  it('PRVNG_* variables override the file', () => {
    const file = userFile('[orchestrator.extensions]\ncache_size = 7\n');
    const c = loadConfig({ file, env: { PRVNG_CACHE_SIZE: '42', PRVNG_DATA_DIR: '/srv/prvng', PRVNG_API_PORT: '9191', PRVNG_AUTO_LOAD: 'off' } });
    expect(c.orchestrator.extensions.cache_size).toBe(42);
    expect(c.orchestrator.extensions.cache_dir).toBe('/srv/prvng/extensions');
    expect(c.orchestrator.extensions.auto_load).toBe(false);
    expect(c.api.listen).toBe('127.0.0.1:9191');
  });

  it.each([
    [{ PRVNG_CACHE_SIZE: 'many' }, 'PRVNG_CACHE_SIZE'],
    [{ PRVNG_CACHE_SIZE: '0' }, 'orchestrator.extensions.cache_size'],
    [{ PRVNG_AUTO_LOAD: 'perhaps' }, 'PRVNG_AUTO_LOAD'],
  ])('a bad environment value names its key: %j', (env, key) => {
    expect(() => loadConfig({ env })).toThrow(new RegExp(key.replace(/\./g, '\\.')));
  });

  it('a bad value in the file names its key', () => {
    const file = userFile('[orchestrator.extensions]\ncache_size = "lots"\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/configuration key "orchestrator\.extensions\.cache_size"/);
  });

  it('unknown keys and malformed TOML are rejected with the file named', () => {
    expect(() => loadConfig({ file: userFile('[orchestrator.extensions]\ncache_sise = 5\n'), env: {} })).toThrow(/unknown key\(s\) cache_sise/);
    const broken = userFile('[orchestrator.extensions\ncache_size = 5\n');
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(InvalidInput);
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(broken);
  });
});
