import semver from 'semver';
import { z } from 'zod';
import { InvalidMetadata } from './errors.js';
import { NAME } from './input.js';
import type { ExtensionMetadata, ExtensionType } from './types.js';

/** `"etcd"` or `"etcd@>=3.5.0 <4.0.0"`: a taskserv and the versions it accepts. */
export interface DependencySpec {
  name: string;
  /** A semver range; `*` when the manifest gives none. */
  range: string;
}


export function parseDependency(spec: string): DependencySpec | undefined {
  const at = spec.indexOf('@');
  const name = (at < 0 ? spec : spec.slice(0, at)).trim();
  const range = at < 0 ? '*' : spec.slice(at + 1).trim();
  if (!NAME.test(name) || name.includes('..') || semver.validRange(range) === null) return undefined;
  return { name, range };
}

const manifestSchema = z.looseObject({
  name: z.string().regex(NAME, 'must be a lower-case extension name'),
  version: z.string().refine((v) => semver.valid(v) !== null, 'must be a semver version'),
  description: z.string().min(1, 'must not be empty'),
  type: z.string().optional(),
  dependencies: z
    .array(z.string().refine((d) => parseDependency(d) !== undefined, 'must be "name" or "name@<semver range>"'))
    .default([]),
  author: z.string().optional(),
  repository: z.string().optional(),
});

/** Where a manifest was found: the folder names it must agree with. */
export interface ManifestLocation {
  file: string;
  name: string;
  version: string;
}

/** Validate a parsed `extension.toml`; every problem names the file and the field. */
export function validateManifest(raw: unknown, type: ExtensionType, at: ManifestLocation): ExtensionMetadata {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(root)';
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    throw invalid(at.file, field, message);
  }
  const m = parsed.data;
  if (m.name !== at.name) throw invalid(at.file, 'name', `is "${m.name}" but the folder is "${at.name}"`);
  if (m.version !== at.version) throw invalid(at.file, 'version', `is "${m.version}" but the folder is "${at.version}"`);
  if (m.type !== undefined && m.type.toLowerCase() !== type.toLowerCase()) {
    throw invalid(at.file, 'type', `is "${m.type}" but the extension is in the ${type.toLowerCase()}s folder`);
  }
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    extension_type: type,
    dependencies: m.dependencies,
    author: m.author ?? null,
    repository: m.repository ?? null,
  };
}

export function invalid(file: string, field: string, problem: string): InvalidMetadata {
  return new InvalidMetadata(`${file}: field "${field}" ${problem}`, { file, field });
}
