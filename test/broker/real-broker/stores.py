# The real Broker's side of the store interop test (test/broker/store-interop.slow.test.ts):
#   stores.py master PORTFILE     a memory master 'interop' with from-broker = 42; waits for
#                                 from-vastflow, prints it
#   stores.py clone PORT FILE     writes a SQLite store FILE ('file': k = count 7), then a clone
#                                 of 'vf' through PORT: prints what it sees, writes through it
#   stores.py read FILE           prints the keys and 'vf-wrote' of the SQLite store FILE
import collections, collections.abc, sys, time
collections.Iterable = collections.abc.Iterable
import broker

opts = broker.BrokerOptions()
opts.disable_ssl = True
role = sys.argv[1]
with broker.Endpoint(broker.Configuration(opts)) as ep:
    if role == "master":
        m = ep.attach_master("interop", broker.Backend.Memory)
        m.put("from-broker", 42)
        print(ep.listen("127.0.0.1", 0), flush=True)
        for _ in range(200):
            v = m.get("from-vastflow")
            if v is not None:
                print("master sees", v, flush=True)
                break
            time.sleep(0.1)
    elif role == "clone":
        s = ep.attach_master("file", broker.Backend.SQLite, {"path": sys.argv[3]})
        s.put("k", broker.Count(7))
        s.await_idle()
        ep.peer("127.0.0.1", int(sys.argv[2]))
        c = ep.attach_clone("vf")
        for _ in range(200):
            v = c.get("from-vastflow-master")
            if v is not None:
                print("clone sees", v, flush=True)
                break
            time.sleep(0.1)
        c.put("from-broker-clone", "yo")
        c.await_idle()
        time.sleep(0.5)
    else:
        s = ep.attach_master("file", broker.Backend.SQLite, {"path": sys.argv[2]})
        print("keys", sorted(str(k) for k in s.keys()), "vf-wrote", s.get("vf-wrote"), flush=True)
