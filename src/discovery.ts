import { ExtensionError, LoadFailure, ScriptFailure } from './errors.js';
import { invalid, validateManifest } from './manifest.js';
import type { NushellRunner } from './nushell/runner.js';
import { typeWord, type ExtensionMetadata, type ExtensionType } from './types.js';

/** One manifest found by discovery: valid, or the reason it is not. */
export type DiscoveredExtension =
  | { ok: true; metadata: ExtensionMetadata; file: string; dir: string }
  | { ok: false; file: string; name: string; version: string; error: { kind: string; message: string } & Record<string, unknown> };

/** What `module load` returns: the checked metadata and the files the extension ships. */
export interface LoadedManifest {
  metadata: ExtensionMetadata;
  dir: string;
  files: string[];
}

interface RawEntry {
  ok: boolean;
  file: string;
  name: string;
  version: string;
  dir: string;
  manifest?: unknown;
  error?: string;
  files?: string[];
}

/**
 * The Nushell half of loading: `provisioning module discover` and `module load`
 * (the reference's calls), one process per call, validated here with the manifest schema.
 */
export class NushellExtensionSource {
  constructor(
    private readonly runner: NushellRunner,
    private readonly provisioningPath: string,
    private readonly extensionsDir: string,
  ) {}

  /** All manifests of a type (or of one name) in one Nushell call. */
  async discover(type: ExtensionType, name?: string): Promise<DiscoveredExtension[]> {
    const request = { extensions_dir: this.extensionsDir, type: typeWord(type), ...(name ? { name } : {}) };
    const entries = await this.call<RawEntry[]>('module discover', request);
    return entries.map((entry) => toDiscovered(entry, type));
  }

  async load(type: ExtensionType, name: string, version: string): Promise<LoadedManifest> {
    const request = { extensions_dir: this.extensionsDir, type: typeWord(type), name, version };
    const entry = await this.call<RawEntry>('module load', request);
    if (!entry.ok) throw invalid(entry.file, '(toml)', entry.error ?? 'is not valid TOML');
    const metadata = validateManifest(entry.manifest, type, entry);
    return { metadata, dir: entry.dir, files: entry.files ?? [] };
  }

  private async call<T>(subcommand: 'module discover' | 'module load', request: object): Promise<T> {
    try {
      return (await this.runner.run<T>(this.provisioningPath, subcommand, request)).data;
    } catch (err) {
      if (!(err instanceof ScriptFailure)) throw err;
      throw new LoadFailure(`provisioning ${subcommand} failed: ${err.message}`, err.details, err.retryable);
    }
  }
}

function toDiscovered(entry: RawEntry, type: ExtensionType): DiscoveredExtension {
  const at = { file: entry.file, name: entry.name, version: entry.version };
  if (!entry.ok) {
    return { ok: false, ...at, error: invalid(entry.file, '(toml)', entry.error ?? 'is not valid TOML').toJSON() };
  }
  try {
    return { ok: true, metadata: validateManifest(entry.manifest, type, at), file: entry.file, dir: entry.dir };
  } catch (err) {
    if (err instanceof ExtensionError) return { ok: false, ...at, error: err.toJSON() };
    throw err;
  }
}
