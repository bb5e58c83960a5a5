import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { InvalidInput } from './errors.js';
import type { ExtensionManagerOptions } from './manager.js';
import { PACKAGE_ROOT } from './package-root.js';

const schema = z.strictObject({
  orchestrator: z.strictObject({
    paths: z.strictObject({ data_dir: z.string().min(1) }),
    extensions: z.strictObject({
      auto_load: z.boolean(),
      cache_dir: z.string().min(1),
      cache_size: z.number().int().min(1).max(100_000),
      extensions_dir: z.string().min(1),
      nu_path: z.string(),
      provisioning_path: z.string(),
      hot_reload: z.boolean(),
      script_timeout_ms: z.number().int().min(100).max(86_400_000),
      sandbox: z.enum(['process', 'no-network']),
      audit_file: z.string().min(1),
    }),
    targets: z.strictObject({ targets_dir: z.string().min(1) }),
  }),
  temporal: z.strictObject({
    task_queue: z.string().min(1).max(200),
    web_ui: z.string().url(),
    sdk_metrics_listen: z.string().regex(/^(off|[^\s:]+:\d{1,5})$/, 'must be host:port or "off"'),
  }),
  api: z.strictObject({
    listen: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'),
    token: z.string(),
  }),
});

export type Config = z.infer<typeof schema>;

/** Keys holding paths: relative values are resolved against the file that set them. */
const PATH_KEYS = [
  'orchestrator.paths.data_dir',
  'orchestrator.extensions.cache_dir',
  'orchestrator.extensions.extensions_dir',
  'orchestrator.extensions.nu_path',
  'orchestrator.extensions.provisioning_path',
  'orchestrator.extensions.audit_file',
  'orchestrator.targets.targets_dir',
];

/** Environment variables and the keys they set. */
export const ENV_KEYS: Record<string, string> = {
  PRVNG_DATA_DIR: 'orchestrator.paths.data_dir',
  PRVNG_AUTO_LOAD: 'orchestrator.extensions.auto_load',
  PRVNG_CACHE_DIR: 'orchestrator.extensions.cache_dir',
  PRVNG_CACHE_SIZE: 'orchestrator.extensions.cache_size',
  PRVNG_EXTENSIONS_DIR: 'orchestrator.extensions.extensions_dir',
  PRVNG_NU_PATH: 'orchestrator.extensions.nu_path',
  PRVNG_PROVISIONING_PATH: 'orchestrator.extensions.provisioning_path',
  PRVNG_HOT_RELOAD: 'orchestrator.extensions.hot_reload',
  PRVNG_SCRIPT_TIMEOUT_MS: 'orchestrator.extensions.script_timeout_ms',
  PRVNG_SANDBOX: 'orchestrator.extensions.sandbox',
  PRVNG_AUDIT_FILE: 'orchestrator.extensions.audit_file',
  PRVNG_TARGETS_DIR: 'orchestrator.targets.targets_dir',
  PRVNG_TASK_QUEUE: 'temporal.task_queue',
  PRVNG_WEB_UI: 'temporal.web_ui',
  PRVNG_SDK_METRICS_LISTEN: 'temporal.sdk_metrics_listen',
  PRVNG_API_LISTEN: 'api.listen',
  PRVNG_API_TOKEN: 'api.token',
};

export interface LoadConfigOptions {
  /** A user config file; default `PRVNG_CONFIG`, else `./prvng.toml` when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Last layer, e.g. CLI flags: dotted keys to values. */
  overrides?: Record<string, unknown>;
}

/**
 * defaults < user file < PRVNG_* environment < overrides; then `{{key}}` placeholders
 * are interpolated and the whole is checked. A bad value names its key.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const tree = readToml(join(PACKAGE_ROOT, 'config.defaults.toml'));
  resolvePaths(tree, PACKAGE_ROOT);

  const file = options.file ?? env.PRVNG_CONFIG ?? (existsSync('prvng.toml') ? 'prvng.toml' : undefined);
  if (file !== undefined) {
    const user = readToml(resolve(file));
    resolvePaths(user, dirname(resolve(file)));
    merge(tree, user);
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    set(tree, key, resolveIfPath(key, coerce(raw, get(tree, key), `${name} (${key})`), process.cwd()));
  }
  if (env.PRVNG_API_PORT) {
    const port = coerce(env.PRVNG_API_PORT, 0, 'PRVNG_API_PORT (api.listen)') as number;
    const host = String(get(tree, 'api.listen') ?? '127.0.0.1:9090').replace(/:\d+$/, '');
    set(tree, 'api.listen', `${host}:${port}`);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) set(tree, key, resolveIfPath(key, value, process.cwd()));

  interpolate(tree, tree);
  const checked = schema.safeParse(tree);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const key = issue.path.join('.');
    const problem = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    throw new InvalidInput(`configuration key "${key}": ${problem}`, { field: key });
  }
  return checked.data;
}

type Tree = Record<string, unknown>;

function readToml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidInput(`cannot read configuration file ${file}: ${(err as Error).message}`, { field: 'config', file });
  }
  try {
    return parseToml(text) as Tree;
  } catch (err) {
    throw new InvalidInput(`configuration file ${file} is not valid TOML: ${(err as Error).message}`, { field: 'config', file });
  }
}

function resolvePaths(tree: Tree, base: string): void {
  for (const key of PATH_KEYS) {
    const value = get(tree, key);
    if (value !== undefined) set(tree, key, resolveIfPath(key, value, base));
  }
}

function resolveIfPath(key: string, value: unknown, base: string): unknown {
  if (!PATH_KEYS.includes(key) || typeof value !== 'string' || value === '') return value;
  if (value.startsWith('{{') || isAbsolute(value)) return value;
  return resolve(base, value);
}

/** Environment values are strings: read them as the type the default has. */
function coerce(raw: string, current: unknown, what: string): unknown {
  if (typeof current === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    throw new InvalidInput(`${what}: expected true or false, got ${JSON.stringify(raw)}`, { field: what });
  }
  if (typeof current === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new InvalidInput(`${what}: expected a number, got ${JSON.stringify(raw)}`, { field: what });
    return n;
  }
  return raw;
}

function interpolate(node: Tree, root: Tree, depth = 0): void {
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string') node[k] = expand(v, root, depth);
    else if (v && typeof v === 'object' && !Array.isArray(v)) interpolate(v as Tree, root, depth);
  }
}

function expand(value: string, root: Tree, depth: number): string {
  if (depth > 8) throw new InvalidInput(`configuration placeholders nest too deep in ${JSON.stringify(value)}`, { field: 'config' });
  return value.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_m, key: string) => {
    const found = get(root, key);
    if (typeof found !== 'string' && typeof found !== 'number') {
      throw new InvalidInput(`configuration placeholder {{${key}}} names no string value`, { field: key });
    }
    return expand(String(found), root, depth + 1);
  });
}

function get(tree: Tree, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Tree)[part] : undefined), tree);
}

function set(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function merge(into: Tree, from: Tree): void {
  for (const [k, v] of Object.entries(from)) {
    const existing = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && existing && typeof existing === 'object') merge(existing as Tree, v as Tree);
    else into[k] = v;
  }
}

/** The ExtensionManager a configuration describes. */
export function managerOptions(config: Config): ExtensionManagerOptions {
  const ext = config.orchestrator.extensions;
  return {
    extensionsDir: ext.extensions_dir,
    cacheDir: ext.cache_dir,
    cacheSize: ext.cache_size,
    auditFile: ext.audit_file,
    hotReload: ext.hot_reload,
    scriptTimeoutMs: ext.script_timeout_ms,
    sandbox: ext.sandbox,
    ...(ext.nu_path ? { nuPath: ext.nu_path } : {}),
    ...(ext.provisioning_path ? { provisioningPath: ext.provisioning_path } : {}),
  };
}
