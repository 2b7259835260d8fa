# The peer a user would pick instead: pyarrow's C++ CSV reader on the same Zeek TSV file
# (tab-delimited, `-` as null, T/F as booleans). Times only read_csv, inside Python:
# warm-up passes first, then N timed passes; prints one JSON line.
#
# usage: pyarrow_read.py FILE[.gz] [--runs 3] [--threads 2]   (--threads 1 = use_threads=False)
import argparse
import gzip
import json
import time

import pyarrow as pa
import pyarrow.csv as csv


def zeek_header(path):
    """Returns (#fields, number of leading `#` lines)."""
    fields, skip = None, 0
    # pyarrow inflates .gz input itself (by the extension); the header is read the same way.
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        for line in f:
            if not line.startswith(b'#'):
                break
            skip += 1
            if line.startswith(b'#fields\t'):
                fields = line.rstrip(b'\n').decode().split('\t')[1:]
    if fields is None:
        raise SystemExit(f'{path}: no #fields line')
    return fields, skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    fields, skip = zeek_header(args.file)
    use_threads = args.threads > 1
    if use_threads:
        pa.set_cpu_count(args.threads)
    read = csv.ReadOptions(skip_rows=skip, column_names=fields, use_threads=use_threads)
    # Zeek never quotes; the trailing `#close` line has too few columns and is skipped.
    parse = csv.ParseOptions(delimiter='\t', quote_char=False, invalid_row_handler=lambda row: 'skip')
    convert = csv.ConvertOptions(null_values=['-'], strings_can_be_null=True, true_values=['T'], false_values=['F'])
    seconds, rows = [], 0
    for i in range(args.warmup + args.runs):
        t0 = time.perf_counter()
        table = csv.read_csv(args.file, read_options=read, parse_options=parse, convert_options=convert)
        dt = time.perf_counter() - t0
        rows = table.num_rows
        if i >= args.warmup:
            seconds.append(dt)
        del table
    print(json.dumps({
        'mode': f'pyarrow-{args.threads}t', 'rows': rows, 'seconds': seconds,
        'threads': pa.cpu_count() if use_threads else 1, 'pyarrow': pa.__version__,
    }))


if __name__ == '__main__':
    main()
