import type { Config } from '../config.js';
import { parseExtensionType, parseName } from '../input.js';
import { formatTable, printResult, type OutputFormat } from './output.js';

type Operation = 'loaded' | 'reload' | 'clear';

/** `prvng extensions loaded | reload | clear`: the cache lives in the worker, so ask its API. */
export async function extensionsApiCommand(config: Config, op: Operation, output: OutputFormat, target?: { type: string; name: string }): Promise<void> {
  const base = `http://${config.api.listen}`;
  const headers: Record<string, string> = config.api.token ? { authorization: `Bearer ${config.api.token}` } : {};
  let response: Response;
  try {
    if (op === 'loaded') response = await fetch(`${base}/api/v1/extensions/loaded`);
    else if (op === 'clear') response = await fetch(`${base}/api/v1/extensions/cache`, { method: 'DELETE', headers });
    else {
      const body = { extension_type: parseExtensionType(target!.type).toLowerCase(), name: parseName(target!.name) };
      response = await fetch(`${base}/api/v1/extensions/reload`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    }
  } catch (err) {
    throw new Error(`no worker API at ${base} (is \`prvng worker\` running?): ${(err as Error).message}`);
  }
  const body = (await response.json()) as { success: boolean; data?: unknown; error?: { kind: string; message: string } };
  if (!body.success) {
    if (output === 'json') process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else process.stderr.write(`error (${body.error?.kind}): ${body.error?.message}\n`);
    process.exit(response.status < 500 ? 2 : 1);
  }
  printResult(output, body.data, () => {
    if (op !== 'loaded') return String(body.data);
    const rows = body.data as { metadata: { name: string; version: string; extension_type: string }; loaded_at: string }[];
    return formatTable(['TYPE', 'NAME', 'VERSION', 'LOADED AT'], rows.map((e) => [e.metadata.extension_type, e.metadata.name, e.metadata.version, e.loaded_at]));
  });
}
