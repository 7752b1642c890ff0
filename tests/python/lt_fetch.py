#!/usr/bin/python3
"""Download a torrent with a real libtorrent client, by magnet link, on loopback.

Run it with Debian's interpreter (python3-libtorrent imports under /usr/bin/python3):

    /usr/bin/python3 tests/python/lt_fetch.py --magnet 'magnet:?xt=urn:btih:...' \
        --save DIR --listen 127.160.0.9 [--dht-bootstrap HOST:PORT ...] [--no-dht] \
        [--peer HOST:PORT ...] [--no-pex] [--download-rate B/S] [--timeout 90]

One libtorrent session listens on --listen (TCP only: uTP, LSD, UPnP and NAT-PMP are
off), with its DHT bootstrapped from --dht-bootstrap (off with --no-dht), adds the
magnet (its x.pe peers included) and --peer addresses, and runs until the torrent is
complete or --timeout seconds pass. With --no-pex the session has ut_metadata and
smart_ban but no ut_pex, so every peer it finds comes from the DHT, the magnet or
--peer. --download-rate limits the download (bytes/s), so that a download on
loopback lasts long enough for the peers' sources to be seen. It prints one JSON
line:

    {"done": true, "seconds": 3.2, "name": "...", "total": N, "have": pieces,
     "pieces": n, "metadata": true,
     "peers": {"127.160.0.2:8001": {"blocks": n, "pieces": [0, 1, ...],
                                     "sources": ["dht", "pex", ...],
                                     "client": "swarmlab/0.1.0"}, ...},
     "dht_nodes": n, "errors": ["..."]}

`peers` is every peer libtorrent connected to or got a block from: the blocks it
got from it and their pieces (block_finished_alert), and, when seen in
get_peer_info, how it learnt of the peer (tracker, dht, pex, lsd, resume_data,
incoming) and its client.
"""

import argparse
import json
import sys
import time
import warnings

try:
    import libtorrent as lt
except ImportError as e:  # the Rust tests turn this into a clear failure
    print(json.dumps({"done": False, "error": "cannot import libtorrent: %s" % e}), flush=True)
    sys.exit(3)

warnings.simplefilter("ignore", DeprecationWarning)

SOURCES = [("tracker", 0x1), ("dht", 0x2), ("pex", 0x4), ("lsd", 0x8), ("resume_data", 0x10), ("incoming", 0x20)]


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--magnet", required=True)
    ap.add_argument("--save", required=True)
    ap.add_argument("--listen", required=True, help="a 127.x.y.z address")
    ap.add_argument("--dht-bootstrap", action="append", default=[], metavar="HOST:PORT")
    ap.add_argument("--no-dht", action="store_true")
    ap.add_argument("--peer", action="append", default=[], metavar="HOST:PORT")
    ap.add_argument("--no-pex", action="store_true")
    ap.add_argument("--download-rate", type=int, default=0, help="download limit, bytes/s (0: none)")
    ap.add_argument("--timeout", type=float, default=90)
    a = ap.parse_args()
    if not a.listen.startswith("127."):
        ap.error("--listen must be a 127.x.y.z address")

    mask = lt.alert_category.error | lt.alert_category.status | lt.alert_category.block_progress | lt.alert_category.connect
    settings = {
        "listen_interfaces": "%s:0" % a.listen,
        "outgoing_interfaces": a.listen,
        "enable_dht": not a.no_dht,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "dht_bootstrap_nodes": ",".join(a.dht_bootstrap),
        # Every node and peer is on 127/8.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_announce_interval": 1,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": mask,
    }
    if a.no_pex:
        s = lt.session(settings, flags=0)
        s.add_extension("ut_metadata")
        s.add_extension("smart_ban")
    else:
        s = lt.session(settings)
    if a.download_rate:
        # Loopback peers are in the unlimited "local" class: limit that class.
        cls = s.get_peer_class(lt.session.local_peer_class_id)
        cls["download_limit"] = a.download_rate
        s.set_peer_class(lt.session.local_peer_class_id, cls)
    if not a.no_dht:
        for b in a.dht_bootstrap:
            s.add_dht_node(hostport(b))
    p = lt.parse_magnet_uri(a.magnet)
    p.save_path = a.save
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    h = s.add_torrent(p)
    for peer in a.peer:
        h.connect_peer(hostport(peer))

    peers = {}
    errors = []
    start = time.time()
    done = False

    def entry(ep):
        return peers.setdefault("%s:%d" % (ep[0], ep[1]), {"blocks": 0, "pieces": [], "sources": [], "client": ""})

    def count_block(al):
        e = entry(al.endpoint)
        e["blocks"] += 1
        if al.piece_index not in e["pieces"]:
            e["pieces"].append(al.piece_index)

    while time.time() - start < a.timeout:
        for al in s.pop_alerts():
            if isinstance(al, lt.block_finished_alert):
                count_block(al)
            elif isinstance(al, lt.peer_connect_alert):
                entry(al.endpoint)
            elif al.category() & lt.alert_category.error:
                errors.append(al.message())
        for pi in h.get_peer_info():
            e = entry(pi.ip)
            e["client"] = pi.client.decode("utf-8", "replace") if isinstance(pi.client, bytes) else pi.client
            for name, bit in SOURCES:
                if pi.source & bit and name not in e["sources"]:
                    e["sources"].append(name)
        st = h.status()
        if st.is_seeding or st.state == lt.torrent_status.seeding:
            done = True
            break
        time.sleep(0.05)
    # The last pieces' block alerts may still be queued when the torrent turns to
    # seeding: count them too.
    for _ in range(3):
        time.sleep(0.05)
        for al in s.pop_alerts():
            if isinstance(al, lt.block_finished_alert):
                count_block(al)
    st = h.status()
    ti = h.torrent_file()
    out = {
        "done": done,
        "seconds": round(time.time() - start, 3),
        "name": ti.name() if ti else None,
        "total": ti.total_size() if ti else None,
        "pieces": ti.num_pieces() if ti else None,
        "have": st.num_pieces,
        "metadata": bool(st.has_metadata),
        "peers": peers,
        "dht_nodes": s.status().dht_nodes,
        "errors": errors[-20:],
        "libtorrent_version": lt.__version__,
    }
    print(json.dumps(out), flush=True)
    # Skip the slow orderly shutdown.
    sys.stdout.flush()
    import os
    os._exit(0)


if __name__ == "__main__":
    main()
