"""The overload case of bench/broker for a real Broker: a subscriber (Broker's Python
bindings) that spends WORK_US of CPU on each message of /bench/data. Prints its port, then
one JSON line per second: messages received so far and status codes seen (peer_lost,
peer_removed, backpressure_overflow and friends). Runs until killed (SIGTERM).

usage: python3 broker_slow_subscriber.py WORK_US
"""

import collections
import collections.abc
import json
import signal
import sys
import time

collections.Iterable = collections.abc.Iterable  # the bindings predate Python 3.10
import broker  # noqa: E402

work = float(sys.argv[1]) / 1e6
opts = broker.BrokerOptions()
opts.disable_ssl = True
ep = broker.Endpoint(broker.Configuration(opts))
sub = ep.make_subscriber("/bench/data")
status = ep.make_status_subscriber(True)
port = ep.listen("127.0.0.1", 0)
print(json.dumps({"port": port}), flush=True)

received = 0
codes = collections.Counter()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
next_report = time.monotonic() + 1
while True:
    msg = sub.get(0.05)
    if msg is not None:
        received += 1
        until = time.perf_counter() + work
        while time.perf_counter() < until:
            pass
    for s in status.poll():
        codes[str(getattr(s, "code", lambda: s)())] += 1
    now = time.monotonic()
    if now >= next_report:
        next_report = now + 1
        print(json.dumps({"received": received, "codes": dict(codes)}), flush=True)
