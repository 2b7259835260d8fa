# DuckDB peer of bench/store: loads the same Zeek TSV into a table, then answers the same
# needle queries (SQL given as JSON on argv), timing each run. Prints one JSON line.
#
# usage: python bench/store/duckdb_queries.py LOG QUERIES_JSON RUNS
import json, sys, time
import duckdb

log, queries, runs = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
with open(log) as f:
    for line in f:
        if line.startswith('#fields'):
            names = line.rstrip('\n').split('\t')[1:]
            break
con = duckdb.connect()
con.execute("SET threads TO 2")
cols = ', '.join(f"'{n}': 'VARCHAR'" for n in names)
t0 = time.perf_counter()
con.execute(f"""CREATE TABLE conn AS SELECT * FROM read_csv('{log}', delim='\t', header=false, comment='#',
  columns={{{cols}}}, nullstr='-', auto_detect=false)""")
# Typed columns where the queries compare numbers.
con.execute("""CREATE TABLE c AS SELECT * REPLACE (CAST(ts AS DOUBLE) AS ts, CAST("id.resp_p" AS INTEGER) AS "id.resp_p",
  CAST(duration AS DOUBLE) AS duration, CAST(orig_bytes AS UBIGINT) AS orig_bytes) FROM conn""")
con.execute("DROP TABLE conn")
load = time.perf_counter() - t0
rows = con.execute("SELECT count(*) FROM c").fetchone()[0]
out = {'rows': rows, 'load_seconds': load, 'version': duckdb.__version__, 'queries': {}}
for name, sql in queries.items():
    secs, n = [], None
    for _ in range(runs + 1):
        t = time.perf_counter()
        n = con.execute(f"SELECT * FROM c WHERE {sql}").to_arrow_table().num_rows
        secs.append(time.perf_counter() - t)
    out['queries'][name] = {'count': n, 'seconds': secs[1:]}
print(json.dumps(out))
