import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { parseExtensionType, parseName, parseVersionRequest } from '../../src/input.js';
import { parseTargetRef } from '../../src/targets.js';

const HOSTILE_NAMES = ['../../etc', 'a/../../b', 'kube\nrnetes', 'Kubernetes', 'kübernetes', '.hidden', '', 'a'.repeat(10_000), 'a b', 'a;rm -rf /', '$(id)'];

describe('input validation', () => {
  it.each(HOSTILE_NAMES)('rejects the name %j with InvalidInput', (name) => {
    expect(() => parseName(name)).toThrow(InvalidInput);
  });

  it('rejects non-strings', () => {
    for (const value of [null, undefined, 42, {}, ['a']]) expect(() => parseName(value)).toThrow(InvalidInput);
  });

  it('accepts the names of the library contract', () => {
    expect(parseName('kubernetes')).toBe('kubernetes');
    expect(parseName('k8s-basic.v2_x')).toBe('k8s-basic.v2_x');
  });

  it('reads types case-insensitively', () => {
    expect(parseExtensionType('TASKSERV')).toBe('Taskserv');
    expect(parseExtensionType('provider')).toBe('Provider');
    expect(() => parseExtensionType('plugin')).toThrow(/expected provider, taskserv or cluster/);
  });

  it('versions: exact, range, latest; garbage is InvalidInput', () => {
    expect(parseVersionRequest(undefined)).toBeUndefined();
    expect(parseVersionRequest('latest')).toBeUndefined();
    expect(parseVersionRequest('1.28.0')).toBe('1.28.0');
    expect(parseVersionRequest('>=3.5 <4')).toBe('>=3.5 <4');
    for (const bad of ['one.two', '1.0.0\n', '>>>1', 'x'.repeat(300), 12]) expect(() => parseVersionRequest(bad)).toThrow(InvalidInput);
  });

  it('targets are provider:server', () => {
    expect(parseTargetRef('local:node-1')).toEqual({ provider: 'local', server: 'node-1' });
    for (const bad of ['local', 'local:', ':x', 'local:../x', 'local:a:b']) expect(() => parseTargetRef(bad)).toThrow(InvalidInput);
  });
});
