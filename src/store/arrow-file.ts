// Reading single record batches of a partition's Arrow file with blocking reads: a needle
// query reads a few batches, and each of Arrow's asynchronous file reads costs a trip
// through libuv's thread pool, which on a busy machine waits longer than the read itself.
// Arrow JS reads its file format from any RandomAccessFile; this one reads a descriptor
// with pread instead of holding the file in memory.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { RandomAccessFile } from 'apache-arrow/io/file';

class DescriptorFile extends RandomAccessFile {
  constructor(private readonly fd: number, size: number) {
    super(new Uint8Array(0), size);
  }

  override readAt(position: number, nBytes: number): Uint8Array {
    const end = Math.min(this.size, position + nBytes);
    // A buffer of its own (offset 0): Arrow views a body's buffers in place, 8-byte aligned.
    const b = new Uint8Array(Math.max(0, end - position));
    let done = 0;
    while (done < b.length) {
      const n = readSync(this.fd, b, done, b.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === b.length ? b : b.subarray(0, done);
  }

  override read(nBytes?: number | null): Uint8Array | null {
    if (this.position >= this.size) return null;
    const n = Math.min(this.size - this.position, typeof nBytes === 'number' ? nBytes : Infinity);
    const b = this.readAt(this.position, n);
    this.position += b.length;
    return b;
  }

  override close(): void {}
}

type FileReaderImpl = new (file: RandomAccessFile) => object;
let impl: FileReaderImpl | undefined;

/** Arrow's (unexported) synchronous file reader implementation, taken from a reader of a tiny file. */
function readerImpl(): FileReaderImpl {
  if (!impl) {
    const tiny = arrow.tableToIPC(arrow.tableFromArrays({ x: Int32Array.of(1) }), 'file');
    impl = (arrow.RecordBatchReader.from(tiny) as unknown as { _impl: object })._impl.constructor as FileReaderImpl;
  }
  return impl;
}

/** An Arrow IPC file opened for reading record batches by index, synchronously. */
export class ArrowFile {
  private constructor(private readonly fd: number, private readonly reader: arrow.RecordBatchFileReader) {}

  static open(path: string): ArrowFile {
    const fd = openSync(path, 'r');
    try {
      const file = new DescriptorFile(fd, fstatSync(fd).size);
      const reader = new arrow.RecordBatchFileReader(new (readerImpl())(file) as never);
      reader.open();
      return new ArrowFile(fd, reader);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  readBatch(index: number): arrow.RecordBatch | null {
    return this.reader.readRecordBatch(index);
  }

  close(): void {
    closeSync(this.fd);
  }
}
