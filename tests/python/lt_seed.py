#!/usr/bin/python3
"""Seed a torrent with real libtorrent sessions on loopback, for swarmlab fetch's tests
and benchmark.

    /usr/bin/python3 tests/python/lt_seed.py --dir DIR --listen 127.60.0.2 [--listen ...]
        [--size BYTES] [--piece-size N] [--files N] [--tracker URL]
        [--dht-bootstrap HOST:PORT ...] [--peer HOST:PORT ...]
        [--corrupt-session K] [--payload PATH] [--torrent PATH] [--upload-rate B/S] [--mesh]

It makes a payload in DIR/payload (one file of --size bytes, or a directory of --files
files adding up to --size, so the torrent is multi-file), or takes --payload, makes a
v1 torrent (or takes --torrent), starts one libtorrent session per --listen address
(TCP only; the DHT on only with --dht-bootstrap), each seeding the payload, announces
to --tracker, connects to --peer, and prints one JSON line:

    {"torrent": PATH, "info_hash": HEX, "magnet": "magnet:?...", "total": N,
     "pieces": n, "piece_size": N, "payload": PATH, "peers": ["127.60.0.2:PORT", ...],
     "dht": ["127.60.0.2:PORT", ...], "mesh": {"127.60.0.2:PORT": ["127.60.0.3:PORT"], ...},
     "libtorrent_version": "..."}

then stays up until stdin closes. --corrupt-session K makes session K seed a copy of
the payload with one byte of every piece flipped in upload mode (a liar: it announces
every piece and sends wrong data; its pieces are not checked on start). --mesh
connects each session to every later one (one connection per pair) and waits, up to
20 s, until every session lists every other one as a peer past the handshake; `mesh`
gives, per session, the others it lists when the line is printed (empty without
--mesh).
"""
import argparse
import json
import os
import random
import shutil
import sys
import time

try:
    import libtorrent as lt
except ImportError as e:
    print(json.dumps({"error": "cannot import libtorrent: %s" % e}), flush=True)
    sys.exit(3)


def make_payload(root, size, files, seed):
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    if files <= 1:
        path = os.path.join(root, "payload.bin")
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, 1 << 22)
                f.write(rnd.randbytes(n))
                left -= n
        return path
    top = os.path.join(root, "payload")
    os.makedirs(os.path.join(top, "sub"), exist_ok=True)
    per = size // files
    for i in range(files):
        n = per if i < files - 1 else size - per * (files - 1)
        d = top if i % 2 == 0 else os.path.join(top, "sub")
        with open(os.path.join(d, "file%02d.bin" % i), "wb") as f:
            f.write(rnd.randbytes(n))
    return top


def settings(iface, dht_bootstrap):
    s = {
        "listen_interfaces": "%s:0" % iface,
        "enable_dht": bool(dht_bootstrap),
        "dht_bootstrap_nodes": ",".join(dht_bootstrap),
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "outgoing_interfaces": iface,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification
        | lt.alert.category_t.dht_notification,
        "unchoke_slots_limit": -1,
        "connection_speed": 500,
        "close_redundant_connections": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_enforce_node_id": False,
        "dht_prefer_verified_node_ids": False,
        "dht_announce_interval": 1,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
    }
    return s


def met(s, sessions):
    """The other sessions that session `s` lists as connected peers (past the
    handshake), by their first listen address."""
    busy = lt.peer_info.connecting | lt.peer_info.handshake
    ips = {pi.ip[0] for pi in s["h"].get_peer_info() if not pi.flags & busy}
    return [o["ports"][0] for o in sessions
            if o is not s and o["iface"] in ips]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--listen", action="append", required=True)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--piece-size", type=int, default=32768)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--tracker", action="append", default=[])
    ap.add_argument("--dht-bootstrap", action="append", default=[])
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--corrupt-session", type=int, default=-1)
    ap.add_argument("--payload")
    ap.add_argument("--torrent")
    ap.add_argument("--seed-value", type=int, default=4217)
    ap.add_argument("--mesh", action="store_true", help="connect the sessions to each other, one connection per pair, and wait for it")
    ap.add_argument("--upload-rate", type=int, default=0, help="upload limit per session, bytes/s (0: none)")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    payload = a.payload or make_payload(os.path.join(a.dir, "src"), a.size, a.files, a.seed_value)
    parent = os.path.dirname(os.path.abspath(payload))
    if a.torrent:
        ti = lt.torrent_info(a.torrent)
        torrent_path = a.torrent
    else:
        fs = lt.file_storage()
        lt.add_files(fs, payload)
        ct = lt.create_torrent(fs, a.piece_size, flags=lt.create_torrent.v1_only)
        ct.set_creator("swarmlab tests")
        for t in a.tracker:
            ct.add_tracker(t)
        lt.set_piece_hashes(ct, parent)
        torrent_path = os.path.join(a.dir, "seed.torrent")
        with open(torrent_path, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        ti = lt.torrent_info(torrent_path)

    sessions = []
    for k, iface in enumerate(a.listen):
        ses = lt.session(settings(iface, a.dht_bootstrap))
        if a.upload_rate:
            # Loopback peers are in the unlimited "local" class: limit that class.
            cls = ses.get_peer_class(lt.session.local_peer_class_id)
            cls["upload_limit"] = a.upload_rate
            ses.set_peer_class(lt.session.local_peer_class_id, cls)
        for b in a.dht_bootstrap:
            host, _, port = b.rpartition(":")
            ses.add_dht_node((host, int(port)))
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_path)
        save = parent
        if k == a.corrupt_session:
            save = os.path.join(a.dir, "liar")
            dst = os.path.join(save, os.path.basename(payload))
            if not os.path.exists(dst):
                if os.path.isdir(payload):
                    shutil.copytree(payload, dst)
                else:
                    os.makedirs(save, exist_ok=True)
                    shutil.copy(payload, dst)
                # Flip one byte in every piece of the concatenated payload.
                files = []
                fst = ti.files()
                for i in range(fst.num_files()):
                    files.append((os.path.join(save, fst.file_path(i)), fst.file_offset(i), fst.file_size(i)))
                for p in range(ti.num_pieces()):
                    off = p * ti.piece_length() + 7
                    for path, fo, fl in files:
                        if fo <= off < fo + fl:
                            with open(path, "r+b") as f:
                                f.seek(off - fo)
                                b = f.read(1)
                                f.seek(off - fo)
                                f.write(bytes([b[0] ^ 0xFF]))
                            break
            atp.flags |= lt.torrent_flags.seed_mode  # trust the data: never checked
        atp.save_path = save
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        h = ses.add_torrent(atp)
        sessions.append({"ses": ses, "h": h, "ports": [], "dht": None, "iface": iface})

    deadline = time.time() + 60
    while time.time() < deadline:
        ready = True
        for s in sessions:
            for al in s["ses"].pop_alerts():
                if isinstance(al, lt.listen_succeeded_alert):
                    if al.socket_type == lt.socket_type_t.tcp:
                        s["ports"].append("%s:%d" % (al.address, al.port))
                    elif al.socket_type == lt.socket_type_t.udp:
                        s["dht"] = "%s:%d" % (al.address, al.port)
            st = s["h"].status()
            if not s["ports"] or not st.is_seeding:
                ready = False
        if ready:
            break
        time.sleep(0.05)
    else:
        print(json.dumps({"error": "libtorrent seeders did not come up"}), flush=True)
        sys.exit(4)

    for s in sessions:
        for p in a.peer:
            host, _, port = p.rpartition(":")
            s["h"].connect_peer((host, int(port)))
    mesh = {}
    if a.mesh:
        # One connection per pair, from the earlier session to the later one: when
        # both dial, each side closes one of the two as a "duplicate peer-id" (not
        # always the same one), and both can go.
        for k, s in enumerate(sessions):
            for o in sessions[k + 1:]:
                host, _, port = o["ports"][0].rpartition(":")
                s["h"].connect_peer((host, int(port)))
        deadline = time.time() + 20
        while time.time() < deadline:
            mesh = {s["ports"][0]: met(s, sessions) for s in sessions}
            if all(len(v) == len(sessions) - 1 for v in mesh.values()):
                break
            time.sleep(0.05)

    magnet = lt.make_magnet_uri(ti)
    print(json.dumps({
        "torrent": torrent_path,
        "info_hash": str(ti.info_hash()),
        "magnet": magnet,
        "total": ti.total_size(),
        "pieces": ti.num_pieces(),
        "piece_size": ti.piece_length(),
        "payload": payload,
        "peers": [s["ports"][0] for s in sessions],
        "dht": [s["dht"] or ("%s:%s" % (s["iface"], s["ports"][0].rsplit(":", 1)[1])) for s in sessions],
        "mesh": mesh,
        "libtorrent_version": lt.__version__,
    }), flush=True)
    # Keep announcing (the DHT, trackers) while the test runs.
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
