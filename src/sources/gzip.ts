// gzip for every input (line files, captures, stdin): detection by the magic bytes and one
// gunzip stream that hands over everything inflated before damage, then says what broke.

import { createGunzip } from 'node:zlib';

/** RFC 1952 member header: ID1 ID2. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Thrown by `gunzip` after the last good byte was delivered: the compressed data ended early
 * (a file cut while copied or still being written) or is corrupt. `reason` is for users.
 */
export class GzipDamage extends Error {
  override name = 'GzipDamage';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** zlib's inflate errors carry Z_* codes; anything else (a read error) is not damage. */
function damageOf(err: unknown): GzipDamage | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return undefined;
  const message = (err as Error).message;
  // Z_BUF_ERROR at the end of input: the stream stops inside a member.
  return new GzipDamage(code === 'Z_BUF_ERROR' ? `truncated gzip data (${message})` : `corrupt gzip data (${message})`);
}

const CHUNK = 256 * 1024;

/**
 * Inflates `input` (concatenated members allowed, as gzip(1) writes them). Node's inflater
 * pushes all output it produced before it reports an error, so every byte before the
 * damage is yielded first; then GzipDamage is thrown.
 */
export async function* gunzip(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const z = createGunzip({ chunkSize: CHUNK });
  const onError = (err: Error) => z.destroy(err);
  input.on('error', onError);
  input.pipe(z);
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (err) {
    throw damageOf(err) ?? err;
  } finally {
    input.unpipe(z);
    input.removeListener('error', onError);
    z.destroy();
  }
}
