import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export interface FixtureExtension {
  type?: 'provider' | 'taskserv' | 'cluster';
  name: string;
  version: string;
  dependencies?: string[];
  description?: string;
  /** The whole extension.toml, instead of one generated from the fields above. */
  manifest?: string;
  /** main.nu; taskservs get `SIMPLE_TASKSERV` unless given. */
  main?: string;
  files?: Record<string, string>;
}

/** A minimal, real taskserv: renders one TOML file from settings and checks it. */
export const SIMPLE_TASKSERV = `use prvng
def main [] {}
def "main configure" [] {
  $in | prvng step {|req|
    let s = {port: 8080} | merge $req.settings
    {files: (prvng stage $req [{path: $"etc/($req.extension.name)/config.toml", content: ({name: $req.extension.name, port: $s.port} | to toml)}])}
  }
}
def "main install" [] { $in | prvng step {|req| {files: (prvng install-staged $req)} } }
def "main verify" [] {
  $in | prvng step {|req| {checks: (prvng recorded-files $req | each {|f| prvng check-parses $req $f })} }
}
def "main uninstall" [] { $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} } }
`;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `prvng-test-${prefix}-`));
}

/** Write a library of fixture extensions into `dir` (a new temp folder by default). */
export function makeLibrary(extensions: FixtureExtension[], dir = tempDir('lib')): string {
  for (const ext of extensions) addExtension(dir, ext);
  return dir;
}

export function addExtension(dir: string, ext: FixtureExtension): string {
  const type = ext.type ?? 'taskserv';
  const folder = join(dir, `${type}s`, ext.name, ext.version);
  mkdirSync(folder, { recursive: true });
  const deps = (ext.dependencies ?? []).map((d) => JSON.stringify(d)).join(', ');
  const manifest =
    ext.manifest ??
    `name = "${ext.name}"\nversion = "${ext.version}"\ndescription = "${ext.description ?? `${ext.name} fixture`}"\ndependencies = [${deps}]\nauthor = "tests"\n`;
  writeFileSync(join(folder, 'extension.toml'), manifest);
  const main = ext.main ?? (type === 'taskserv' ? SIMPLE_TASKSERV : undefined);
  if (main) writeFileSync(join(folder, 'main.nu'), main);
  for (const [file, content] of Object.entries(ext.files ?? {})) {
    mkdirSync(join(folder, file, '..'), { recursive: true });
    writeFileSync(join(folder, file), content);
  }
  return folder;
}

/** The bundled library copied to a temp `extensions/` folder (paths read as in the reference), plus fixtures. */
export function bundledLibraryWith(extra: FixtureExtension[] = []): string {
  const dir = join(tempDir('lib'), 'extensions');
  cpSync(join(PACKAGE_ROOT, 'extensions'), dir, { recursive: true });
  return makeLibrary(extra, dir);
}
