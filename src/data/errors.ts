// Operating-system errors (errno codes) turned into sentences users can act on, with the
// path they concern: "cannot read /tmp: it is a directory". Inputs, outputs and the CLI share it.

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EIO: 'input/output error (the device or file system failed)',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files (raise ulimit -n)',
  ENFILE: 'too many open files in the system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EFBIG: 'the file is too large',
  EEXIST: 'it already exists',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EPIPE: 'the reader closed the pipe',
  EAGAIN: 'the resource is temporarily unavailable',
  EBADF: 'the file is not open for this',
  ECONNRESET: 'the connection was reset',
};

/** The errno code of a Node.js system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A short reason for a system error ("it is a directory"); other errors keep their message. */
export function systemReason(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined) return REASONS[code] ?? `${(err as Error).message.replace(/^[A-Z0-9]+: /, '').replace(/, \w+ '.*'$/, '')} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/** An error whose message says what could not be done to which path, and why. */
export class FileError extends Error {
  override name = 'FileError';
  readonly code: string | undefined;
  constructor(readonly verb: string, readonly path: string, cause: unknown) {
    super(`cannot ${verb} ${path}: ${systemReason(cause)}`, { cause });
    this.code = errnoCode(cause);
  }
}

/** `new FileError(verb, path, err)` for system errors; anything else is returned unchanged. */
export function fileError(verb: string, path: string, err: unknown): unknown {
  return errnoCode(err) !== undefined ? new FileError(verb, path, err) : err;
}

const VERBS: Record<string, string> = { open: 'open', read: 'read', write: 'write', close: 'close', stat: 'read', lstat: 'read', scandir: 'read', mkdir: 'create', rename: 'rename', unlink: 'remove' };

/**
 * The sentence for any error a user sees: FileError and other messages as they are; a raw
 * Node.js system error that carries a path ("EISDIR: illegal operation on a directory, read")
 * as "cannot read /tmp: it is a directory".
 */
export function describeError(err: unknown): string {
  if (err instanceof FileError || errnoCode(err) === undefined) return err instanceof Error ? err.message : String(err);
  const { path, syscall } = err as { path?: unknown; syscall?: unknown };
  const verb = typeof syscall === 'string' ? VERBS[syscall] ?? syscall : 'use';
  return typeof path === 'string' ? `cannot ${verb} ${path}: ${systemReason(err)}` : `${verb} failed: ${systemReason(err)}`;
}
