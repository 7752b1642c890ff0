#!/usr/bin/python3
"""A network of libtorrent DHT nodes on loopback, driven by line commands.

Run it with Debian's interpreter (python3-libtorrent imports under /usr/bin/python3):

    /usr/bin/python3 tests/python/lt_net.py --nodes 10 --first 127.50.0.1 --port 7000 \
        [--bootstrap HOST:PORT ...] [--log FILE]

It starts one libtorrent session per node, node i listening on `first + i`:`port`
(each node its own 127.x.y.z address). Without --bootstrap every node is given every
other node (add_dht_node); with --bootstrap every node is given only those addresses. It prints one JSON line when the sessions are up:

    {"ready": true, "nodes": [{"i": 0, "addr": "127.50.0.1:7000", "id": "<40 hex>"}, ...]}

then reads commands on stdin, one per line, and answers each with one JSON line
(`{"ok": false, "error": "..."}` when a command fails):

    info                          -> {"ok": true, "nodes": [...]}            (as above)
    add_node <i|all> HOST:PORT    -> {"ok": true}                            add_dht_node
    announce <i> <ih-hex>         -> {"ok": true, "port": P}                 adds the torrent;
                                     libtorrent announces it on its listen port P
    get_peers <i> <ih-hex> [secs] -> {"ok": true, "peers": ["ip:port", ...], "replies": n}
                                     peers from dht_get_peers_reply_alert: all that come
                                     within 0.3 s of the first one, or none after `secs`
                                     (default 10)
    table <i|all> [secs]          -> {"ok": true, "tables": [{"i", "live": [{"id","addr"}],
                                     "saved": ["ip:port"], "buckets": [[nodes, repl], ...]}]}
                                     (dht_live_nodes, dht_state()'s nodes, dht_stats)
    put_immutable <i> <v-hex>     -> {"ok": true, "target": hex, "stored": n}
                                     dht_put_immutable_item of the bencoded value v;
                                     waits for its dht_put_alert
    get_immutable <i> <target> [secs]
                                  -> {"ok": true, "v": hex or null}
                                     dht_get_immutable_item; the bencoded item found
    put_mutable <i> <seed> <pub> <salt-hex> <data-hex>
                                  -> {"ok": true, "target", "stored", "seq", "sig"}
                                     dht_put_mutable_item with the ed25519 key of the
                                     32-byte seed (libtorrent's 64-byte secret key is
                                     SHA-512(seed), clamped) and its public key; the
                                     value is the bencoded string of data; libtorrent
                                     signs it with the next sequence number it finds
    get_mutable <i> <pub> <salt-hex> [secs]
                                  -> {"ok": true, "v": hex or null, "seq", "sig",
                                     "authoritative"} (dht_mutable_item_alert)
    sample <i> <ip:port> <target> [secs]
                                  -> {"ok": true, "interval", "num", "samples": [hex],
                                     "nodes": n} (dht_sample_infohashes to one node)
    quit                          -> {"ok": true}, then exits

With --log FILE every DHT log line and packet libtorrent reports (dht_log_alert,
dht_pkt_alert) is appended to FILE, to see why libtorrent refuses something.
"""

import argparse
import hashlib
import ipaddress
import json
import shutil
import sys
import tempfile
import threading
import time
import warnings

try:
    import libtorrent as lt
except ImportError as e:  # the Rust tests turn this into a clear failure
    print(json.dumps({"ready": False, "error": "cannot import libtorrent: %s" % e}), flush=True)
    sys.exit(3)

warnings.simplefilter("ignore", DeprecationWarning)


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def compact_addr(b):
    """6-byte compact IPv4 node address -> "ip:port"."""
    if len(b) == 6:
        return "%d.%d.%d.%d:%d" % (b[0], b[1], b[2], b[3], b[4] << 8 | b[5])
    return b.hex()


def item_bencode(item):
    """The bencoded item of a dht_*_item_alert, as hex (None when nothing was found).
    The binding hands the item as {"key": ..., "value": <the item>}."""
    if isinstance(item, dict) and "value" in item and "key" in item:
        item = item["value"]
    if item is None or item == {} or item == b"":
        return None
    return lt.bencode(item).hex()


class Net:
    def __init__(self, n, first, port, log):
        self.lock = threading.Condition()
        self.sessions = []
        self.addrs = []
        self.log = log
        self.tmp = tempfile.mkdtemp(prefix="lt_net.")
        # Alerts dispatched by the pump thread, keyed per session.
        self.peers = {}  # (i, ih) -> set of "ip:port"
        self.peers_done = {}  # (i, ih) -> number of reply alerts
        self.live = {}  # i -> list of {"id", "addr"} (latest dht_live_nodes_alert)
        self.stats = {}  # i -> buckets (latest dht_stats_alert)
        self.alerts = {}  # (i, kind, key) -> latest BEP 44 / BEP 51 alert fields
        mask = (
            lt.alert_category.dht
            | lt.alert_category.dht_operation
            | lt.alert_category.status
            | lt.alert_category.error
        )
        if log:
            mask |= lt.alert_category.dht_log
        base = int(ipaddress.IPv4Address(first))
        for i in range(n):
            ip = str(ipaddress.IPv4Address(base + i))
            s = lt.session(
                {
                    "listen_interfaces": "%s:%d" % (ip, port),
                    "enable_dht": True,
                    "enable_lsd": False,
                    "enable_upnp": False,
                    "enable_natpmp": False,
                    "enable_incoming_utp": False,
                    "enable_outgoing_utp": False,
                    # Every node is on 127/8: let them share a routing table and a search.
                    "dht_restrict_routing_ips": False,
                    "dht_restrict_search_ips": False,
                    "dht_bootstrap_nodes": "",
                    # Loopback floods one node with queries from few addresses.
                    "dht_block_ratelimit": 100000,
                    "dht_max_fail_count": 100,
                    # A torrent's DHT announces come one after another this often.
                    "dht_announce_interval": 1,
                    "alert_mask": mask,
                }
            )
            self.sessions.append(s)
            self.addrs.append("%s:%d" % (ip, port))
        self.ids = [self.node_id(i) for i in range(n)]
        self.stop = False
        self.pump = threading.Thread(target=self.pump_alerts, daemon=True)
        self.pump.start()

    def node_id(self, i):
        # dht_state()'s "node-id" entries are 20 bytes of id and the address.
        deadline = time.time() + 10
        while time.time() < deadline:
            st = self.sessions[i].dht_state()
            ids = st.get(b"node-id") or st.get("node-id") or []
            if ids:
                return bytes(ids[0][:20]).hex()
            time.sleep(0.05)
        return None

    def info(self):
        return [{"i": i, "addr": a, "id": self.ids[i]} for i, a in enumerate(self.addrs)]

    def pump_alerts(self):
        logf = open(self.log, "a") if self.log else None
        while not self.stop:
            got = False
            for i, s in enumerate(self.sessions):
                for a in s.pop_alerts():
                    got = True
                    self.dispatch(i, a, logf)
            if not got:
                time.sleep(0.02)

    def dispatch(self, i, a, logf):
        if isinstance(a, lt.dht_get_peers_reply_alert):
            ih = str(a.info_hash)
            with self.lock:
                ps = self.peers.setdefault((i, ih), set())
                for p in a.peers():
                    ps.add("%s:%d" % (p[0], p[1]))
                self.peers_done[(i, ih)] = self.peers_done.get((i, ih), 0) + 1
                self.lock.notify_all()
        elif isinstance(a, lt.dht_live_nodes_alert):
            nodes = []
            for n in a.nodes:
                nid, ep = n["nid"], n["endpoint"]
                nodes.append({"id": str(nid), "addr": "%s:%d" % (ep[0], ep[1])})
            with self.lock:
                self.live[i] = nodes
                self.lock.notify_all()
        elif isinstance(a, lt.dht_stats_alert):
            with self.lock:
                self.stats[i] = [[b["num_nodes"], b["num_replacements"]] for b in a.routing_table]
                self.lock.notify_all()
        elif isinstance(a, lt.dht_put_alert):
            key = bytes(a.public_key).hex() if any(bytes(a.public_key)) else str(a.target)
            self.record(i, "put", key, {"stored": a.num_success, "seq": a.seq,
                                        "sig": bytes(a.signature).hex(), "target": str(a.target)})
        elif isinstance(a, lt.dht_immutable_item_alert):
            v = item_bencode(a.item)
            self.record(i, "get_immutable", str(a.target), {"v": v})
        elif isinstance(a, lt.dht_mutable_item_alert):
            v = item_bencode(a.item)
            self.record(i, "get_mutable", bytes(a.key).hex(),
                        {"v": v, "seq": a.seq, "sig": bytes(a.signature).hex(),
                         "authoritative": bool(a.authoritative)})
        elif isinstance(a, lt.dht_sample_infohashes_alert):
            ep = a.endpoint
            self.record(i, "sample", "%s:%d" % (ep[0], ep[1]),
                        {"interval": int(a.interval.total_seconds()) if hasattr(a.interval, "total_seconds") else a.interval,
                         "num": a.num_infohashes,
                         "samples": [str(h) for h in a.samples],
                         "nodes": a.num_nodes})
        elif logf is not None and isinstance(a, (lt.dht_log_alert, lt.dht_pkt_alert)):
            logf.write("%.3f node%d %s\n" % (time.time(), i, a.message()))
            logf.flush()

    def record(self, i, kind, key, fields):
        with self.lock:
            self.alerts[(i, kind, key)] = fields
            self.lock.notify_all()

    def await_alert(self, i, kind, key, secs, done=lambda f: True):
        """The fields of the latest alert of `kind` for `key` once `done` holds, or the
        latest one (or None) after `secs`."""
        k = (i, kind, key)
        self.wait(lambda: k in self.alerts and done(self.alerts[k]), secs)
        with self.lock:
            return self.alerts.get(k)

    def forget(self, i, kind, key):
        with self.lock:
            self.alerts.pop((i, kind, key), None)

    def wait(self, pred, secs):
        deadline = time.time() + secs
        with self.lock:
            while not pred():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def which(self, arg):
        if arg == "all":
            return list(range(len(self.sessions)))
        i = int(arg)
        if not 0 <= i < len(self.sessions):
            raise ValueError("no node %d" % i)
        return [i]

    def table(self, i, secs):
        s = self.sessions[i]
        with self.lock:
            self.live.pop(i, None)
            self.stats.pop(i, None)
        s.dht_live_nodes(lt.sha1_hash(bytes.fromhex(self.ids[i])))
        s.post_dht_stats()
        self.wait(lambda: i in self.live and i in self.stats, secs)
        saved = [compact_addr(bytes(b)) for b in (s.dht_state().get(b"nodes") or [])]
        with self.lock:
            return {
                "i": i,
                "live": self.live.get(i, []),
                "saved": saved,
                "buckets": self.stats.get(i, []),
            }

    def command(self, words):
        c = words[0]
        if c == "info":
            return {"nodes": self.info()}
        if c == "add_node":
            host, port = parse_hostport(words[2])
            for i in self.which(words[1]):
                self.sessions[i].add_dht_node((host, port))
            return {}
        if c == "announce":
            # The Python binding of session.dht_announce cannot be called (no
            # constructor for its flags argument), so announce the way a client does:
            # add the torrent; libtorrent announces it to the DHT on its listen port.
            i = self.which(words[1])[0]
            p = lt.add_torrent_params()
            p.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(words[2])))
            p.save_path = self.tmp
            self.sessions[i].add_torrent(p)
            return {"port": int(self.addrs[i].rsplit(":", 1)[1])}
        if c == "get_peers":
            i = self.which(words[1])[0]
            ih = words[2].lower()
            secs = float(words[3]) if len(words) > 3 else 10.0
            key = (i, ih)
            with self.lock:
                self.peers.pop(key, None)
                self.peers_done.pop(key, None)
            self.sessions[i].dht_get_peers(lt.sha1_hash(bytes.fromhex(ih)))
            # No alert says the lookup is over: wait for a first peer, then gather
            # what the other replies bring for a moment.
            if self.wait(lambda: len(self.peers.get(key, ())) > 0, secs):
                time.sleep(0.3)
            with self.lock:
                return {"peers": sorted(self.peers.get(key, set())), "replies": self.peers_done.get(key, 0)}
        if c == "put_immutable":
            i = self.which(words[1])[0]
            # libtorrent stores the entry re-encoded (dictionary keys sorted).
            v = lt.bencode(lt.bdecode(bytes.fromhex(words[2])))
            target = hashlib.sha1(v).hexdigest()
            self.forget(i, "put", target)
            self.sessions[i].dht_put_immutable_item(lt.bdecode(v))
            got = self.await_alert(i, "put", target, 30)
            if got is None:
                raise RuntimeError("no dht_put_alert for %s" % target)
            return {"target": target, "stored": got["stored"]}
        if c == "get_immutable":
            i = self.which(words[1])[0]
            target = words[2].lower()
            secs = float(words[3]) if len(words) > 3 else 20.0
            self.forget(i, "get_immutable", target)
            self.sessions[i].dht_get_immutable_item(lt.sha1_hash(bytes.fromhex(target)))
            got = self.await_alert(i, "get_immutable", target, secs)
            return {"v": got["v"] if got else None}
        if c == "put_mutable":
            i = self.which(words[1])[0]
            seed, pub = bytes.fromhex(words[2]), bytes.fromhex(words[3])
            salt, data = bytes.fromhex(words[4]), bytes.fromhex(words[5])
            h = bytearray(hashlib.sha512(seed).digest())
            h[0] &= 248
            h[31] &= 63
            h[31] |= 64
            self.forget(i, "put", pub.hex())
            self.sessions[i].dht_put_mutable_item(bytes(h), pub, data, salt)
            got = self.await_alert(i, "put", pub.hex(), 30)
            if got is None:
                raise RuntimeError("no dht_put_alert for key %s" % pub.hex())
            return got
        if c == "get_mutable":
            i = self.which(words[1])[0]
            pub, salt = bytes.fromhex(words[2]), bytes.fromhex(words[3])
            secs = float(words[4]) if len(words) > 4 else 20.0
            self.forget(i, "get_mutable", pub.hex())
            self.sessions[i].dht_get_mutable_item(pub, salt)
            got = self.await_alert(i, "get_mutable", pub.hex(), secs,
                                   done=lambda f: f["authoritative"])
            return got or {"v": None}
        if c == "sample":
            i = self.which(words[1])[0]
            host, port = parse_hostport(words[2])
            secs = float(words[4]) if len(words) > 4 else 10.0
            key = "%s:%d" % (host, port)
            self.forget(i, "sample", key)
            self.sessions[i].dht_sample_infohashes((host, port),
                                                   lt.sha1_hash(bytes.fromhex(words[3])))
            got = self.await_alert(i, "sample", key, secs)
            if got is None:
                raise RuntimeError("no answer to sample_infohashes from %s" % key)
            return got
        if c == "table":
            secs = float(words[2]) if len(words) > 2 else 5.0
            return {"tables": [self.table(i, secs) for i in self.which(words[1])]}
        raise ValueError("unknown command %r" % c)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--first", default="127.50.0.1")
    ap.add_argument("--port", type=int, default=7000)
    ap.add_argument("--bootstrap", action="append", default=[], metavar="HOST:PORT")
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    if not ipaddress.IPv4Address(a.first).is_loopback:
        ap.error("--first must be a 127.x.y.z address")
    net = Net(a.nodes, a.first, a.port, a.log)
    if a.bootstrap:
        for s in net.sessions:
            for b in a.bootstrap:
                s.add_dht_node(parse_hostport(b))
    else:
        # add_dht_node pings the node and adds it when it answers: a full mesh gives
        # every node a full table within a round trip or two.
        for i, s in enumerate(net.sessions):
            for j, a in enumerate(net.addrs):
                if j != i:
                    s.add_dht_node(parse_hostport(a))
    print(json.dumps({"ready": True, "nodes": net.info()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            print(json.dumps({"ok": True}), flush=True)
            break
        try:
            out = net.command(words)
            out["ok"] = True
        except Exception as e:  # report, keep serving
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out), flush=True)
    net.stop = True
    shutil.rmtree(net.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
