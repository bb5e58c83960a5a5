import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InvalidInput, ProviderError, ScriptFailure } from './errors.js';
import { parseName, parseServer } from './input.js';
import type { ExtensionManager } from './manager.js';

/** Where an install goes: a provider and a server name (`local:node-1`). */
export interface TargetRef {
  provider: string;
  server: string;
}

/** A target the provider has resolved to a root folder on this machine. */
export interface Target extends TargetRef {
  root: string;
}

/** What a completed install leaves on its target: the provenance of the files there. */
export interface Receipt {
  name: string;
  version: string;
  content_hash: string;
  workflow_id: string | null;
  run_id: string | null;
  files: string[];
  installed_at: string;
  verified_at: string | null;
}

/** Parse `local:node-1` (the CLI form). */
export function parseTargetRef(value: string): TargetRef {
  const [provider, server, ...rest] = value.split(':');
  if (rest.length || !provider || !server) {
    throw new InvalidInput(`invalid target ${JSON.stringify(value.slice(0, 80))}: expected <provider>:<server>, e.g. local:node-1`, { field: 'target' });
  }
  return { provider: parseName(provider, 'target provider'), server: parseServer(server) };
}

/**
 * Targets are resolved by their provider extension's `main.nu target`; receipts live
 * in the target's own state (`var/lib/prvng/receipts/<name>.json`), written atomically.
 */
export class Targets {
  constructor(
    private readonly manager: ExtensionManager,
    readonly targetsDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async resolve(ref: TargetRef, signal?: AbortSignal): Promise<Target> {
    const provider = parseName(ref.provider, 'target provider');
    const server = parseServer(ref.server);
    const ext = await this.manager.loadExtension('Provider', provider);
    let root: string;
    try {
      const { data } = await this.manager.runner.run<{ root: string }>(
        join(ext.snapshot_dir, 'main.nu'),
        'target',
        { server, targets_dir: this.targetsDir, credentials: this.credentials(provider) },
        signal ? { signal } : {},
      );
      root = resolve(data.root);
    } catch (err) {
      if (err instanceof ScriptFailure && !err.retryable) {
        const reason = (err.details.script_error as { message?: string } | undefined)?.message ?? err.message;
        throw new ProviderError(`provider ${provider} cannot prepare ${server}: ${reason}`, { provider, server });
      }
      throw err;
    }
    // A provider may only hand out folders under the targets dir: nothing else is ours to write.
    if (!root.startsWith(resolve(this.targetsDir) + sep)) {
      throw new ProviderError(`provider ${provider} returned ${root}, outside ${this.targetsDir}`, { provider, server });
    }
    await mkdir(root, { recursive: true });
    return { provider, server, root };
  }

  /** The check an activity does on a target it receives from workflow history. */
  assertOwned(target: Target): Target {
    const root = resolve(target.root);
    if (!root.startsWith(resolve(this.targetsDir) + sep)) {
      throw new ProviderError(`target root ${root} is outside ${this.targetsDir}`, { ...target });
    }
    return { provider: parseName(target.provider, 'target provider'), server: parseServer(target.server), root };
  }

  async readReceipt(target: Target, name: string): Promise<Receipt | undefined> {
    try {
      return JSON.parse(await readFile(receiptPath(target, parseName(name)), 'utf8')) as Receipt;
    } catch {
      return undefined;
    }
  }

  async receipts(target: Target): Promise<Receipt[]> {
    let files: string[];
    try {
      files = await readdir(join(target.root, RECEIPTS));
    } catch {
      return [];
    }
    const all = await Promise.all(files.filter((f) => f.endsWith('.json')).map((f) => this.readReceipt(target, f.slice(0, -5))));
    return all.filter((r): r is Receipt => r !== undefined);
  }

  async writeReceipt(target: Target, receipt: Receipt): Promise<void> {
    const file = receiptPath(target, receipt.name);
    await mkdir(join(target.root, RECEIPTS), { recursive: true });
    const temp = `${file}.${randomUUID()}.tmp`;
    await writeFile(temp, `${JSON.stringify(receipt, null, 2)}\n`);
    await rename(temp, file); // atomic: a crash leaves the old receipt or the new one
  }

  async removeReceipt(target: Target, name: string): Promise<void> {
    await rm(receiptPath(target, name), { force: true });
  }

  /** Provider credentials come from `PRVNG_<PROVIDER>_*` and reach only that provider's script. */
  private credentials(provider: string): Record<string, string> {
    const prefix = `PRVNG_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
    const found: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env)) {
      if (k.startsWith(prefix) && v) found[k.slice(prefix.length).toLowerCase()] = v;
    }
    return found;
  }
}

const RECEIPTS = join('var', 'lib', 'prvng', 'receipts');

function receiptPath(target: Target, name: string): string {
  return join(target.root, RECEIPTS, `${name}.json`);
}
