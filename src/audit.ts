import { mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export type AuditOperation = 'load' | 'reload' | 'hot-reload' | 'clear' | 'evict' | 'install' | 'api';

export interface AuditRecord {
  operation: AuditOperation;
  key?: string;
  content_hash?: string;
  outcome: string;
  duration_ms?: number;
  [extra: string]: unknown;
}

/**
 * Append-only JSON lines, one per operation. Writes go through a stream so a cache hit
 * pays for a JSON.stringify, not a disk write; `close()` flushes what is pending.
 */
export class AuditLog {
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'a' });
  }

  record(entry: AuditRecord): void {
    this.stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
