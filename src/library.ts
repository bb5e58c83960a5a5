import { watch, readdirSync, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';
import semver from 'semver';
import { ExtensionNotFound } from './errors.js';
import { NAME } from './input.js';
import { EXTENSION_TYPES, typeFolder, type ExtensionType } from './types.js';
import { sortVersions } from './versions.js';


/** A change seen under the library: which extension folder, and which version if any. */
export interface LibraryChange {
  type: ExtensionType;
  name: string;
  version?: string;
}

/**
 * The extension library on disk (DESIGN.md section 3): which names and versions exist.
 * Folder listings are cached and dropped when the watcher sees the folder change,
 * so resolving "latest" costs a map look-up, not a readdir, on the hot path.
 */
export class ExtensionLibrary {
  private readonly versions = new Map<string, string[]>();
  private watcher: FSWatcher | undefined;
  private readonly listeners: ((change: LibraryChange) => void)[] = [];

  constructor(readonly dir: string) {}

  /** Names of one type, sorted. */
  names(type: ExtensionType): string[] {
    return listDir(join(this.dir, typeFolder(type))).filter((n) => NAME.test(n)).sort();
  }

  /** Versions of one extension, highest first; throws ExtensionNotFound listing what exists. */
  versionsOf(type: ExtensionType, name: string): string[] {
    const key = `${type}/${name}`;
    let found = this.versions.get(key);
    if (found === undefined) {
      found = sortVersions(listDir(join(this.dir, typeFolder(type), name)).filter((v) => semver.valid(v) === v));
      if (this.watching()) this.versions.set(key, found);
    }
    if (found.length === 0) {
      const existing = this.names(type);
      throw new ExtensionNotFound(
        `${type.toLowerCase()} "${name}" not found in ${this.dir}; available: ${existing.join(', ') || 'none'}`,
        { type: type.toLowerCase(), name, available: existing },
      );
    }
    return found;
  }

  versionDir(type: ExtensionType, name: string, version: string): string {
    return join(this.dir, typeFolder(type), name, version);
  }

  /** Be told of every change under the library (starts the watcher). */
  onChange(listener: (change: LibraryChange) => void): void {
    this.listeners.push(listener);
    this.watching();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private watching(): boolean {
    if (this.watcher) return true;
    try {
      this.watcher = watch(this.dir, { recursive: true, persistent: false }, (_event, file) => {
        if (file) this.changed(file.toString());
      });
      this.watcher.on('error', () => this.close());
      return true;
    } catch {
      return false; // no watcher (missing dir, inotify limits): listings are read each time
    }
  }

  private changed(relative: string): void {
    const [folder, name, version] = relative.split(sep);
    const type = EXTENSION_TYPES.find((t) => typeFolder(t) === folder);
    if (!type || !name) {
      this.versions.clear();
      return;
    }
    this.versions.delete(`${type}/${name}`);
    const change: LibraryChange = version ? { type, name, version } : { type, name };
    for (const listener of this.listeners) listener(change);
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
