// The shared body of the text sinks (Zeek TSV, Zeek JSON, JSON, CSV, ASCII): per batch it
// prints all rows into one buffer and writes it in one call, starting a new header block
// whenever the schema differs from the previous batch's.

import type { Batch } from '../data/batch.js';
import type { z } from 'zod';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { ByteBuffer, type TextFormat } from '../formats/text.js';
import { formatType, type Schema } from '../data/types.js';
import { openOutput, type Output } from './output.js';

/** Flush threshold inside a batch, so that one huge batch does not build a huge buffer. */
const FLUSH_BYTES = 4 << 20;

const keys = new WeakMap<Schema, string>();

/** Identity of a schema for change detection: name, field names, types and attributes. */
export function schemaKey(schema: Schema): string {
  let key = keys.get(schema);
  if (key === undefined) {
    key = `${schema.name}\n${schema.fields.map((f) => `${f.name}:${formatType(f.type)}:${JSON.stringify(f.attributes ?? {})}`).join('\n')}`;
    keys.set(schema, key);
  }
  return key;
}

export async function textSink(ctx: NodeContext, path: string, format: TextFormat): Promise<Sink> {
  const output = await openOutput(path, ctx.baseDir);
  return new TextSink(ctx, output, format);
}

/** A text sink component: its options (with `path`) and the format it prints with. */
export function textSinkSpec<S extends z.ZodType<{ path: string }>>(
  type: string, description: string, options: S, format: (options: z.output<S>) => TextFormat,
): SinkSpec<S> {
  return { kind: 'sink', type, description, options, create: (o, ctx) => textSink(ctx, o.path, format(o)) };
}

export class TextSink implements Sink {
  private readonly buf = new ByteBuffer();
  private last: string | undefined;
  private closed = false;

  constructor(private readonly ctx: NodeContext, private readonly output: Output, private readonly format: TextFormat) {}

  async write(batch: Batch): Promise<void> {
    const key = schemaKey(batch.schema);
    if (key !== this.last) {
      this.format.begin?.(batch.schema, this.buf, this.last === undefined);
      this.last = key;
    }
    const rows = batch.data.numRows;
    if (rows > 0) {
      const row = this.format.rows(batch);
      for (let r = 0; r < rows; r++) {
        row(r, this.buf);
        if (this.buf.length >= FLUSH_BYTES) await this.flush();
      }
    }
    await this.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.last !== undefined) this.format.end?.(this.buf);
    await this.flush();
    await this.output.close();
  }

  /**
   * Failure path: every write ended with a whole batch flushed, so the file already ends
   * at a line boundary; the trailer (Zeek's `#close`) is left out, as Zeek itself does
   * when it stops abnormally, so a reader can tell the file was not closed normally.
   */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buf.take();
    await this.output.close();
  }

  private async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const bytes = this.buf.take();
    this.ctx.stats.bytes += bytes.length;
    await this.output.write(bytes);
  }
}
