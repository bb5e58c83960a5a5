import semver from 'semver';
import { VersionNotFound } from './errors.js';

/** Highest first: 1.10.0 before 1.2.0, a release before its prereleases. */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].filter((v) => semver.valid(v) !== null).sort(semver.rcompare);
}

/**
 * Pick the concrete version a request means. No request: the highest stable version.
 * An exact version: that one, prereleases included. A range: the highest stable
 * version inside it (prereleases only by exact request).
 */
export function resolveVersion(available: readonly string[], request: string | undefined, what: string): string {
  const sorted = sortVersions(available);
  const stable = sorted.filter((v) => semver.prerelease(v) === null);
  let chosen: string | undefined;
  if (request === undefined) chosen = stable[0];
  else if (semver.valid(request)) chosen = sorted.find((v) => semver.eq(v, request));
  else chosen = semver.maxSatisfying(stable, request) ?? undefined;
  if (chosen !== undefined) return chosen;

  const wanted = request === undefined ? 'stable version' : `version ${request}`;
  const list = sorted.length ? sorted.join(', ') : 'none';
  throw new VersionNotFound(`${what} has no ${wanted}; available: ${list}`, {
    requested: request ?? 'latest',
    available: sorted,
  });
}
