"""A real Broker endpoint (Broker's own Python bindings) driven by JSON lines on stdin.

The interop test (real-broker.slow.test.ts) runs it as the other side of our endpoint.
Commands, one JSON object per line: init, listen, peer, unpeer, subscribe, forward, publish,
publish_event, flood, counts, exit. Everything it observes goes to stdout as JSON lines:
replies ({"re": op, ...}), messages, statuses and errors. Values travel between the test
and this script in Broker's WebSocket JSON form ({"@data-type": T, "data": D}), built
into and read from broker.Data with the exact low-level types (timestamps in ns).
"""

import collections
import collections.abc
import json
import os
import tempfile
import re
import sys
import threading
import time

# The bindings still use collections.Iterable (gone in Python 3.10).
collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]

import broker  # noqa: E402
import broker._broker as low  # noqa: E402

out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj)
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


PROTOCOLS = {"tcp": broker.Port.TCP, "udp": broker.Port.UDP, "icmp": broker.Port.ICMP, "?": broker.Port.Unknown}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}


def address(text):
    import ipaddress

    a = ipaddress.ip_address(text)
    return low.Address(a.packed, 4 if a.version == 4 else 6)


def to_data(j):
    """Broker's JSON form -> broker.Data, exactly."""
    t, d = j["@data-type"], j["data"]
    if t == "none":
        return low.Data()
    if t == "boolean":
        return low.Data(bool(d))
    if t == "count":
        return low.Data(low.Count(int(d)))
    if t == "integer":
        return low.Data(int(d))
    if t == "real":
        return low.Data(float(d))
    if t == "string":
        return low.Data(str(d))
    if t == "address":
        return low.Data(address(d))
    if t == "subnet":
        net, length = d.rsplit("/", 1)
        return low.Data(low.Subnet(address(net), int(length)))
    if t == "port":
        n, p = d.split("/")
        return low.Data(low.Port(int(n), PROTOCOLS[p]))
    if t == "timestamp_ns":
        return low.Data(low.Timestamp(low.Timespan(int(d))))
    if t == "timespan_ns":
        return low.Data(low.Timespan(int(d)))
    if t == "enum-value":
        return low.Data(low.Enum(d))
    if t == "vector":
        return low.Data(low.Vector([to_data(x) for x in d]))
    if t == "set":
        return low.Data(low.Set([to_data(x) for x in d]))
    if t == "table":
        tbl = low.Table()
        for e in d:
            tbl[to_data(e["key"])] = to_data(e["value"])
        return low.Data(tbl)
    raise ValueError("unknown type " + t)


def describe(d):
    """broker.Data -> [type name, Broker's own to_string of it]."""
    return [str(d.get_type()).split(".")[-1], str(d)]


class Peer:
    def __init__(self):
        self.ep = None
        self.counts = collections.Counter()
        self.threads = []

    def init(self, c):
        if c.get("conf"):
            # Options the bindings do not expose (broker.peer-buffer-size, ...) come from a
            # config file in the working directory. Configuration(BrokerOptions) parses it
            # before it sets the name broker.conf, so CAF's default name is the one read.
            d = tempfile.mkdtemp(prefix="broker-conf-")
            for name in ("broker.conf", "caf-application.conf"):
                with open(os.path.join(d, name), "w") as f:
                    f.write(c["conf"])
            os.chdir(d)
        opts = broker.BrokerOptions()
        opts.disable_ssl = c.get("tls", "off") == "off"
        cfg = broker.Configuration(opts)
        for k in ("certificate", "key", "passphrase", "cafile", "capath"):
            if c.get(k):
                setattr(cfg, "openssl_" + k, c[k])
        self.ep = broker.Endpoint(cfg)
        ss = self.ep.make_status_subscriber(True)
        threading.Thread(target=self.statuses, args=(ss,), daemon=True).start()
        return {"id": str(self.ep.node_id())}

    def statuses(self, ss):
        while True:
            for s in ss.poll():
                kind = "status" if isinstance(s, low.Status) else "error"
                # The bindings name codes in CamelCase (SC.PeerAdded); Broker's are snake_case.
                name = re.sub(r"(?<!^)([A-Z])", r"_\1", str(s.code()).split(".")[-1]).lower()
                emit({kind: name, "message": str(s)})
            time.sleep(0.02)

    def listen(self, c):
        return {"port": self.ep.listen(c.get("host", "127.0.0.1"), int(c.get("port", 0)))}

    def peer(self, c):
        return {"ok": bool(self.ep.peer(c["host"], int(c["port"]), float(c.get("retry", 0))))}

    def unpeer(self, c):
        return {"ok": bool(self.ep.unpeer(c["host"], int(c["port"])))}

    def subscribe(self, c):
        # The low-level subscriber yields broker.Data as it arrived (the Python wrapper
        # would convert to Python values, losing nanoseconds).
        sub = self.ep.make_subscriber(c["topics"], int(c.get("qsize", 20)))._subscriber
        t = threading.Thread(target=self.read, args=(sub, c), daemon=True)
        t.start()
        return {}

    def read(self, sub, c):
        mode = c.get("mode", "report")
        echo = c.get("echo")
        slow = float(c.get("slow_ms", 0)) / 1000.0
        while True:
            got = sub.get(256, 0.05)
            for pair in got:
                topic, data = pair[0].string(), pair[1]
                self.counts[topic] += 1
                if mode == "report":
                    msg = {"topic": topic, "value": describe(data)}
                    ev = low.zeek.Event(data)
                    if ev.valid():
                        msg["event"] = ev.name()
                        msg["args"] = [describe(a) for a in ev.args()]
                        meta = ev.metadata()
                        if meta is not None:
                            msg["metadata"] = [describe(m) for m in meta]
                    emit(msg)
                    if echo:
                        if "event" in msg:
                            # A fresh event, built the way Python users build one.
                            self.ep.publish(echo + topic, broker.zeek.Event(ev.name(), *ev.args()))
                        else:
                            self.ep.publish(echo + topic, data)
                if slow:
                    time.sleep(slow)

    def forward(self, c):
        self.ep.forward(c["topics"])
        return {}

    def publish(self, c):
        self.ep.publish(c["topic"], to_data(c["value"]))
        return {}

    def publish_event(self, c):
        args = [to_data(a) for a in c["args"]]
        self.ep.publish(c["topic"], broker.zeek.Event(c["name"], *args))
        return {}

    def flood(self, c):
        """Publishes count vectors [i, payload] as fast as the endpoint takes them."""
        payload = "x" * int(c.get("size", 100))
        n = int(c["count"])
        topic = c["topic"]
        started = time.time()
        pub = self.ep.make_publisher(topic)
        for i in range(n):
            pub.publish(low.Data(low.Vector([low.Data(low.Count(i)), low.Data(payload)])))
        return {"seconds": time.time() - started}

    def counts_(self, c):
        return {"counts": dict(self.counts)}


def main():
    p = Peer()
    v = low.Version
    emit({"ready": True, "version": "%d.%d.%d" % (v.MAJOR, v.MINOR, v.PATCH), "protocol": int(v.PROTOCOL)})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        op = c["op"]
        if op == "exit":
            break
        try:
            fn = getattr(p, "counts_" if op == "counts" else op)
            r = fn(c)
            r["re"] = op
            emit(r)
        except Exception as e:
            emit({"re": op, "failed": repr(e)})
    if p.ep is not None:
        p.ep.shutdown()
    emit({"bye": True})


if __name__ == "__main__":
    main()
