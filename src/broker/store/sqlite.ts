// The SQLite backend, file-compatible with Broker's (`detail/sqlite_backend.cc`): tables
// `meta(key text primary key, value text)` and `store(key blob primary key, value blob,
// expiry integer)`, keys and values in Broker's binary format, expiry in ns since the
// epoch. Writes are grouped: the first write of an event-loop turn opens a transaction
// that commits at the end of the turn (or at `flush()`), so a burst costs one commit,
// not one per write (with synchronous=FULL a commit is an fsync).

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decodeData, encodeData } from '../bin.js';
import type { BrokerData } from '../data.js';
import type { Backend, Entry } from './backend.js';

export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
export type SqliteJournalMode = 'DELETE' | 'WAL';

export interface SqliteOptions {
  /** The database file; its directory is created if missing. */
  readonly path: string;
  /** SQLite's `PRAGMA synchronous`; SQLite's own default (FULL) when not given. */
  readonly synchronous?: SqliteSynchronous;
  /** SQLite's `PRAGMA journal_mode`; SQLite's own default (DELETE) when not given. */
  readonly journal_mode?: SqliteJournalMode;
  /** On a file that cannot be opened or fails the integrity check: FAIL (default) or DELETE it and start empty. */
  readonly failure_mode?: 'DELETE' | 'FAIL';
  /** Runs `PRAGMA integrity_check` when opening (default false). */
  readonly integrity_check?: boolean;
}

/** The version written to `meta.broker_version`: the Broker release whose format this is. */
export const BROKER_FORMAT_VERSION = '2.8.0';

type Statement = Database.Statement;

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Accepts SQLite's names and Broker's Zeek enum names (`Broker::SQLITE_SYNCHRONOUS_FULL`). */
export function normaliseOption<T extends string>(name: string, value: unknown, prefix: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`SQLite backend option '${name}' must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  const v = (value.startsWith(prefix) ? value.slice(prefix.length) : value).toUpperCase();
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`SQLite backend option '${name}' has an invalid value '${value}' (one of ${allowed.join(', ')})`);
  return v as T;
}

export class SqliteBackend implements Backend {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private db: Database.Database;
  private inTransaction = false;
  private readonly s: {
    replace: Statement; update: Statement; erase: Statement; expire: Statement; lookup: Statement; exists: Statement;
    size: Statement; snapshot: Statement; expiries: Statement; clear: Statement; keys: Statement;
  };

  constructor(options: SqliteOptions) {
    if (typeof options.path !== 'string' || options.path === '') throw new Error("the SQLite backend needs a 'path' (the database file)");
    const synchronous = normaliseOption('synchronous', options.synchronous, 'Broker::SQLITE_SYNCHRONOUS_', ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const);
    const journal = normaliseOption('journal_mode', options.journal_mode, 'Broker::SQLITE_JOURNAL_MODE_', ['DELETE', 'WAL'] as const);
    const failure = normaliseOption('failure_mode', options.failure_mode, 'Broker::SQLITE_FAILURE_MODE_', ['DELETE', 'FAIL'] as const) ?? 'FAIL';
    if (options.integrity_check !== undefined && typeof options.integrity_check !== 'boolean') {
      throw new Error("SQLite backend option 'integrity_check' must be true or false");
    }
    this.path = options.path;
    const dir = path.dirname(options.path);
    if (dir) fs.mkdirSync(dir, { recursive: true });
    const open = (): Database.Database => {
      const db = new Database(options.path);
      try {
        if (synchronous) db.pragma(`synchronous = ${synchronous}`);
        if (journal) db.pragma(`journal_mode = ${journal}`);
        db.exec('create table if not exists meta(key text primary key, value text);');
        db.exec('create table if not exists store(key blob primary key, value blob, expiry integer);');
        db.prepare("insert or ignore into meta(key, value) values('broker_version', ?)").run(BROKER_FORMAT_VERSION);
        if (options.integrity_check) {
          const rows = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
          if (rows.length !== 1 || rows[0]!.integrity_check !== 'ok') {
            throw new Error(`integrity check failed: ${rows.map((r) => r.integrity_check).join('; ')}`);
          }
        }
        return db;
      } catch (e) {
        db.close();
        throw e;
      }
    };
    let db: Database.Database;
    try {
      db = open();
    } catch (e) {
      if (failure !== 'DELETE' || !fs.existsSync(options.path) || !fs.statSync(options.path).isFile()) {
        throw new Error(`cannot open the SQLite store ${options.path}: ${(e as Error).message}`);
      }
      fs.rmSync(options.path);
      for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(options.path + suffix, { force: true });
      try {
        db = open();
      } catch (e2) {
        throw new Error(`cannot open the SQLite store ${options.path} even after deleting the corrupt file: ${(e2 as Error).message}`);
      }
    }
    this.db = db;
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      replace: p('replace into store(key, value, expiry) values(?, ?, ?);'),
      update: p('update store set value = ?, expiry = ? where key = ?;'),
      erase: p('delete from store where key = ?;'),
      expire: p('delete from store where key = ? and expiry <= ?;'),
      lookup: p('select value from store where key = ?;').pluck(),
      exists: p('select 1 from store where key = ?;').pluck(),
      size: p('select count(*) from store;').pluck(),
      snapshot: p('select key, value, expiry from store;').raw().safeIntegers(true),
      expiries: p('select key, expiry from store where expiry is not null;').raw().safeIntegers(true),
      clear: p('delete from store;'),
      keys: p('select key from store;').pluck(),
    };
  }

  /** Opens the turn's transaction if none is open. */
  private begin(): void {
    if (this.inTransaction) return;
    this.db.exec('BEGIN');
    this.inTransaction = true;
    setImmediate(() => this.flush());
  }

  /** Commits the writes made so far: from here on they survive a crash of the process. */
  flush(): void {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    if (this.db.open) this.db.exec('COMMIT');
  }

  put(key: BrokerData, value: BrokerData, expiry: bigint | undefined): void {
    this.begin();
    this.s.replace.run(view(encodeData(key)), view(encodeData(value)), expiry ?? null);
  }

  /** Changes the value of an existing key (what Broker's subtract does). */
  update(key: BrokerData, value: BrokerData, expiry: bigint | undefined): void {
    this.begin();
    this.s.update.run(view(encodeData(value)), expiry ?? null, view(encodeData(key)));
  }

  get(key: BrokerData): BrokerData | undefined {
    const b = this.s.lookup.get(view(encodeData(key))) as Buffer | undefined;
    return b === undefined ? undefined : decodeData(b);
  }

  exists(key: BrokerData): boolean {
    return this.s.exists.get(view(encodeData(key))) !== undefined;
  }

  erase(key: BrokerData): boolean {
    this.begin();
    return this.s.erase.run(view(encodeData(key))).changes > 0;
  }

  expire(key: BrokerData, now: bigint): boolean {
    this.begin();
    return this.s.expire.run(view(encodeData(key)), now).changes === 1;
  }

  clear(): void {
    this.begin();
    this.s.clear.run();
  }

  keys(): BrokerData[] {
    return (this.s.keys.all() as Buffer[]).map((b) => decodeData(b));
  }

  size(): number {
    return this.s.size.get() as number;
  }

  entries(): Entry[] {
    return (this.s.snapshot.all() as [Buffer, Buffer, bigint | null][]).map(([k, v, e]) =>
      e === null ? { key: decodeData(k), value: decodeData(v) } : { key: decodeData(k), value: decodeData(v), expiry: e });
  }

  expiries(): [BrokerData, bigint][] {
    return (this.s.expiries.all() as [Buffer, bigint][]).map(([k, e]) => [decodeData(k), e]);
  }

  /** Runs a pragma (for tests and tools): its rows. */
  pragma(text: string): unknown {
    return this.db.pragma(text);
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
