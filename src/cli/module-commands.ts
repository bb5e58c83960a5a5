import type { ExtensionManager } from '../manager.js';
import type { ExtensionType } from '../types.js';
import { formatTable, printResult, type OutputFormat } from './output.js';

/** `prvng module discover <type> [--name N]`: one Nushell call for the whole type. */
export async function discoverCommand(manager: ExtensionManager, type: ExtensionType, name: string | undefined, output: OutputFormat): Promise<void> {
  const found = await manager.discover(type, name);
  printResult(output, found, () =>
    formatTable(
      ['NAME', 'VERSION', 'STATUS', 'DEPENDENCIES', 'DESCRIPTION'],
      found.map((e) =>
        e.ok
          ? [e.metadata.name, e.metadata.version, 'ok', e.metadata.dependencies.join(', ') || '-', e.metadata.description]
          : [e.name, e.version, e.error.kind, '-', e.error.message.split('\n')[0]],
      ),
    ),
  );
}

/** `prvng module load <type> <name> [--version V]`. */
export async function loadCommand(manager: ExtensionManager, type: string, name: string, version: string | undefined, output: OutputFormat): Promise<void> {
  const extension = await manager.loadExtension(type, name, version);
  const m = extension.metadata;
  printResult(output, extension, () =>
    formatTable(
      ['FIELD', 'VALUE'],
      [
        ['name', m.name],
        ['version', m.version],
        ['type', m.extension_type],
        ['description', m.description],
        ['dependencies', m.dependencies.join(', ') || '-'],
        ['author', m.author],
        ['repository', m.repository],
        ['path', extension.path],
        ['content_hash', extension.content_hash],
        ['loaded_at', extension.loaded_at],
      ],
    ),
  );
}
