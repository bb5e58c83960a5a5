/** The reference's types, serialized exactly as its JSON (snake_case, `extension_type` as "Taskserv"). */

export const EXTENSION_TYPES = ['Provider', 'Taskserv', 'Cluster'] as const;
export type ExtensionType = (typeof EXTENSION_TYPES)[number];

export interface ExtensionMetadata {
  name: string;
  version: string;
  description: string;
  extension_type: ExtensionType;
  dependencies: string[];
  author: string | null;
  repository: string | null;
}

export interface Extension {
  metadata: ExtensionMetadata;
  /** Library-relative folder of the extension, as in the reference: `extensions/taskservs/kubernetes`. */
  path: string;
  /** RFC 3339. */
  loaded_at: string;
  /** sha256 over the extension's files (relative path and content of each). */
  content_hash: string;
  /** Content-addressed copy of the files that were loaded; later steps run these. */
  snapshot_dir: string;
}

/** Folder name of a type in the library: `taskservs`. */
export function typeFolder(type: ExtensionType): string {
  return `${type.toLowerCase()}s`;
}

/** Lower-case word used in cache keys, CLI arguments and Nushell requests: `taskserv`. */
export function typeWord(type: ExtensionType): string {
  return type.toLowerCase();
}

/** The reference's cache key: `{type}:{name}:{version}`. */
export function cacheKey(type: ExtensionType, name: string, version: string): string {
  return `${typeWord(type)}:${name}:${version}`;
}
