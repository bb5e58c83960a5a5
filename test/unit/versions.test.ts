import { describe, expect, it } from 'vitest';
import { VersionNotFound } from '../../src/errors.js';
import { resolveVersion, sortVersions } from '../../src/versions.js';

describe('versions', () => {
  it('sorts by semver, not by text: 1.10.0 above 1.2.0', () => {
    expect(sortVersions(['1.2.0', '1.10.0', '1.9.9', 'not-a-version'])).toEqual(['1.10.0', '1.9.9', '1.2.0']);
  });

  it('latest is the highest stable version, never a prerelease', () => {
    expect(resolveVersion(['1.2.0', '1.10.0', '2.0.0-rc.1'], undefined, 'x')).toBe('1.10.0');
  });

  it('a prerelease is chosen only by exact request', () => {
    expect(resolveVersion(['1.2.0', '2.0.0-rc.1'], '2.0.0-rc.1', 'x')).toBe('2.0.0-rc.1');
    expect(resolveVersion(['1.2.0', '2.0.0-rc.1'], '>=1.0.0', 'x')).toBe('1.2.0');
  });

  it('a range picks the highest version inside it', () => {
    expect(resolveVersion(['3.4.27', '3.5.12', '3.5.9', '4.0.0'], '>=3.5.0 <4.0.0', 'etcd')).toBe('3.5.12');
    expect(resolveVersion(['1.28.0', '1.28.4', '1.29.2'], '~1.28.0', 'k')).toBe('1.28.4');
  });

  it('VersionNotFound lists the request and every available version', () => {
    let err: unknown;
    try {
      resolveVersion(['1.0.0', '1.10.0'], '2.0.0', 'taskserv "k"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VersionNotFound);
    expect((err as VersionNotFound).message).toBe('taskserv "k" has no version 2.0.0; available: 1.10.0, 1.0.0');
    expect((err as VersionNotFound).details).toEqual({ requested: '2.0.0', available: ['1.10.0', '1.0.0'] });
  });

  it('no stable version at all is VersionNotFound for latest', () => {
    expect(() => resolveVersion(['1.0.0-beta.1'], undefined, 'x')).toThrow('x has no stable version; available: 1.0.0-beta.1');
  });
});
