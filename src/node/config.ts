// The node's configuration file (`flow serve CONFIG`): where its store is, which import
// pipelines feed it, and where it listens. Every setting has a default, so a node runs
// without a file at all; command-line flags override the file.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEFAULT_DB } from '../store/store.js';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:43000');

/** Broker's port in the BroCon'18 integration (and Zeek's default Broker port 9999 + 33001). */
export const DEFAULT_LISTEN = '127.0.0.1:43000';

export const nodeConfigSchema = z.strictObject({
  db: z.string().min(1).default(DEFAULT_DB).describe('store directory (relative to the config file); created if missing'),
  listen: z.union([hostPort, z.literal(false)]).default(DEFAULT_LISTEN).describe('accept native Broker peers (Zeek) on HOST:PORT; false: none'),
  websocket: hostPort.optional().describe("also accept clients of Zeek's WebSocket API v1 on HOST:PORT"),
  metrics: hostPort.optional().describe('serve Prometheus /metrics and /status (JSON) over HTTP on HOST:PORT'),
  import: z.array(z.string().min(1)).default([]).describe('pipeline files (relative to the config file) whose archive sinks feed the node\'s store'),
  node_id: z.string().min(1).optional().describe('name of the node in VAST::done events (default: its Broker endpoint id)'),
  queue_rows: z.number().int().positive().default(65536).describe('matches a live query may have waiting for a slow client before it is cancelled'),
});

export type NodeConfig = z.output<typeof nodeConfigSchema>;

/** Reads a config file; paths in it become absolute (relative to the file). */
export async function loadNodeConfig(file: string): Promise<NodeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the node's configuration: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new Error(`${file}: YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = nodeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')} (settings: ${Object.keys(nodeConfigSchema.shape).join(', ')})`;
      return `${i.path.length ? `setting '${i.path.join('.')}'` : 'the file'}: ${i.message}`;
    });
    throw new Error(`${file}: ${lines.join('; ')}`);
  }
  const base = dirname(resolve(file));
  return { ...parsed.data, db: resolve(base, parsed.data.db), import: parsed.data.import.map((p) => resolve(base, p)) };
}

/** The defaults, for a node started without a file. */
export function defaultNodeConfig(): NodeConfig {
  return nodeConfigSchema.parse({});
}

export function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))];
}
