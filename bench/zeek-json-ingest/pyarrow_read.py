# The peer a user would pick instead: pyarrow's C++ JSON reader (pyarrow.json.read_json) on
# the same Zeek JSON file, with its own type inference. Times only read_json, inside Python:
# warm-up passes first, then N timed passes; prints one JSON line.
#
# usage: pyarrow_read.py FILE [--runs 3] [--warmup 1] [--threads 2]   (--threads 1 = use_threads=False)
import argparse
import json
import time

import pyarrow as pa
import pyarrow.json as pj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    use_threads = args.threads > 1
    if use_threads:
        pa.set_cpu_count(args.threads)
    read = pj.ReadOptions(use_threads=use_threads)
    seconds, rows = [], 0
    for i in range(args.warmup + args.runs):
        t0 = time.perf_counter()
        table = pj.read_json(args.file, read_options=read)
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
