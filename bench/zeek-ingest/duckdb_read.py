# A second peer: DuckDB's CSV reader on the same Zeek TSV file into an Arrow table, with
# the column types taken from the log's #types (time and interval as DOUBLE, as pyarrow
# infers them). Warm-up passes first, then N timed passes; prints one JSON line.
#
# usage: duckdb_read.py FILE [--runs 3] [--threads 2]
import argparse
import json
import time

import duckdb

SQL_TYPES = {
    'time': 'DOUBLE', 'interval': 'DOUBLE', 'count': 'UBIGINT', 'int': 'BIGINT', 'double': 'DOUBLE',
    'port': 'USMALLINT', 'bool': 'BOOLEAN',
}


def zeek_header(path):
    """Returns (#fields, #types, number of leading `#` lines)."""
    fields, types, skip = None, None, 0
    with open(path, 'rb') as f:
        for line in f:
            if not line.startswith(b'#'):
                break
            skip += 1
            parts = line.rstrip(b'\n').decode().split('\t')
            if parts[0] == '#fields':
                fields = parts[1:]
            elif parts[0] == '#types':
                types = parts[1:]
    if fields is None or types is None:
        raise SystemExit(f'{path}: no #fields/#types lines')
    return fields, types, skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    fields, types, skip = zeek_header(args.file)
    con = duckdb.connect()
    con.execute(f'SET threads = {args.threads}')
    columns = ', '.join(f"'{f}': '{SQL_TYPES.get(t, 'VARCHAR')}'" for f, t in zip(fields, types))
    # Zeek never quotes; the trailing `#close` line has too few columns and is skipped.
    query = (f"SELECT * FROM read_csv('{args.file}', delim='\\t', header=false, skip={skip}, quote='', escape='', "
             f"nullstr='-', columns={{{columns}}}, ignore_errors=true, auto_detect=false)")
    seconds, rows = [], 0
    for i in range(args.warmup + args.runs):
        t0 = time.perf_counter()
        table = con.sql(query).to_arrow_table()
        dt = time.perf_counter() - t0
        rows = table.num_rows
        if i >= args.warmup:
            seconds.append(dt)
        del table
    print(json.dumps({'mode': f'duckdb-{args.threads}t', 'rows': rows, 'seconds': seconds, 'threads': args.threads, 'duckdb': duckdb.__version__}))


if __name__ == '__main__':
    main()
