#!/usr/bin/python3
"""Start a small real BitTorrent swarm of libtorrent sessions on loopback.

Used by the swarmlab-audit integration tests and the audit benchmark.

It creates a payload and a .torrent in --dir, starts one libtorrent session per
seeder and per leecher (each on its own 127.0.0.x address), prints one JSON line
describing the swarm on stdout, and stays up until stdin is closed.

A leecher of completion f holds exactly round(f * pieces) verified pieces: its file
is written with those pieces correct and the others zeroed, libtorrent checks it on
start, and the torrent runs in upload mode so it never downloads more.

--listen-per-session N makes every session listen on N addresses (127.0.S.1..N), so
a few processes can stand for many peers in the benchmark.
--mesh connects every session to every other one (so ut_pex has neighbours to report).
"""
import argparse
import json
import os
import random
import sys
import time

try:
    import libtorrent as lt
except ImportError:  # pragma: no cover - reported to the caller
    print(json.dumps({"error": "python3-libtorrent is not installed (apt-get install python3-libtorrent)"}))
    sys.stdout.flush()
    sys.exit(3)


def make_payload(path, size, seed):
    rnd = random.Random(seed)
    data = rnd.randbytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return data


def make_torrent(payload_dir, name, piece_size, out_path):
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(payload_dir, name))
    ct = lt.create_torrent(fs, piece_size, flags=lt.create_torrent.v1_only)
    ct.set_creator("swarmlab tests")
    lt.set_piece_hashes(ct, payload_dir)
    raw = lt.bencode(ct.generate())
    with open(out_path, "wb") as f:
        f.write(raw)
    return lt.torrent_info(out_path)


def settings(interfaces):
    return {
        "listen_interfaces": ",".join(interfaces),
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "connections_limit": 4000,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
        "outgoing_interfaces": "",
        "anonymous_mode": False,
        # Keep connections between upload-only peers (the leechers run in upload mode).
        "close_redundant_connections": False,
        # Loopback peers: no rate limits for local addresses, no connection throttling.
        "connection_speed": 500,
        "unchoke_slots_limit": -1,
        "aio_threads": 1,
        "hashing_threads": 1,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--name", default="payload.bin")
    ap.add_argument("--pieces", type=int, default=32)
    ap.add_argument("--piece-size", type=int, default=16384)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--leechers", default="", help="comma-separated completions, e.g. 0.5,0.25,0")
    ap.add_argument("--downloaders", type=int, default=0, help="sessions that start empty and download")
    ap.add_argument("--download-rate", type=int, default=65536, help="download limit of the downloaders, bytes/s")
    ap.add_argument("--listen-per-session", type=int, default=1)
    ap.add_argument("--first-octet", type=int, default=2, help="sessions use 127.0.0.<first-octet + i>")
    ap.add_argument("--mesh", action="store_true")
    ap.add_argument("--seed-value", type=int, default=4217)
    ap.add_argument("--log-disconnects", action="store_true", help="print libtorrent's disconnect reasons to stderr")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    payload_dir = os.path.join(a.dir, "payload")
    os.makedirs(payload_dir, exist_ok=True)
    size = a.pieces * a.piece_size - a.piece_size // 3  # a short last piece
    data = make_payload(os.path.join(payload_dir, a.name), size, a.seed_value)
    torrent_path = os.path.join(a.dir, "swarm.torrent")
    ti = make_torrent(payload_dir, a.name, a.piece_size, torrent_path)
    n = ti.num_pieces()

    roles = [("seed", 1.0)] * a.seeds
    roles += [("leech", float(x)) for x in a.leechers.split(",") if x.strip()]
    roles += [("download", 0.0)] * a.downloaders

    sessions = []
    for i, (role, frac) in enumerate(roles):
        if a.listen_per_session == 1:
            ifaces = ["127.0.0.%d:0" % (a.first_octet + i)]
        else:
            ifaces = ["127.%d.%d.%d:0" % (1 + (i // 250), 1 + (i % 250), j + 1) for j in range(a.listen_per_session)]
        ses = lt.session(settings(ifaces))
        if role == "download":
            # Loopback peers are in the unlimited "local" class: limit that class.
            cls = ses.get_peer_class(lt.session.local_peer_class_id)
            cls["download_limit"] = a.download_rate
            ses.set_peer_class(lt.session.local_peer_class_id, cls)
        save = os.path.join(a.dir, "peer%d" % i)
        os.makedirs(save, exist_ok=True)
        k = round(frac * n)
        have = sorted(random.Random(1000 + i).sample(range(n), k))
        buf = bytearray(size)
        for p in have:
            s = p * a.piece_size
            buf[s:s + a.piece_size] = data[s:s + a.piece_size]
        with open(os.path.join(save, a.name), "wb") as f:
            f.write(bytes(buf))
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_path)
        atp.save_path = save
        if role == "leech":
            atp.flags |= lt.torrent_flags.upload_mode
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        h = ses.add_torrent(atp)
        sessions.append({"ses": ses, "h": h, "role": role, "have": have, "ifaces": ifaces, "ports": []})

    # Wait for listening sockets and for every torrent to finish checking.
    deadline = time.time() + 60
    while time.time() < deadline:
        done = True
        for s in sessions:
            for al in s["ses"].pop_alerts():
                if isinstance(al, lt.listen_succeeded_alert) and al.socket_type == lt.socket_type_t.tcp:
                    s["ports"].append("%s:%d" % (al.address, al.port))
            st = s["h"].status()
            if len(s["ports"]) < len(s["ifaces"]) or st.state in (
                lt.torrent_status.checking_files,
                lt.torrent_status.checking_resume_data,
            ) or (st.num_pieces != len(s["have"]) and s["role"] != "download"):
                done = False
        if done:
            break
        time.sleep(0.05)
    else:
        print(json.dumps({"error": "libtorrent sessions did not come up"}))
        sys.stdout.flush()
        sys.exit(4)

    if a.mesh:
        for s in sessions:
            for o in sessions:
                if o is not s:
                    ip, port = o["ports"][0].rsplit(":", 1)
                    s["h"].connect_peer((ip, int(port)))
        # Wait until every session is connected to every other one.
        deadline = time.time() + 20
        while time.time() < deadline:
            if all(s["h"].status().num_peers >= len(sessions) - 1 for s in sessions):
                break
            time.sleep(0.05)

    peers = []
    for i, s in enumerate(sessions):
        for addr in sorted(s["ports"]):
            peers.append({
                "addr": addr,
                "session": i,
                "role": s["role"],
                "seed": s["role"] == "seed",
                "pieces": len(s["have"]),
                "have": s["have"],
                "completion": len(s["have"]) / n,
            })
    out = {
        "torrent": torrent_path,
        "info_hash": str(ti.info_hash()),
        "num_pieces": n,
        "piece_size": a.piece_size,
        "total_size": size,
        "libtorrent_version": lt.__version__,
        "peers": peers,
        "pid": os.getpid(),
    }
    print(json.dumps(out))
    sys.stdout.flush()
    if a.log_disconnects:
        import threading

        def log():
            while True:
                for s in sessions:
                    for al in s["ses"].pop_alerts():
                        if not isinstance(al, lt.peer_disconnected_alert) or "End of file" not in al.message():
                            sys.stderr.write("libtorrent: %s\n" % al.message())
                time.sleep(0.1)

        for s in sessions:
            s["ses"].apply_settings({"alert_mask": lt.alert.category_t.peer_notification | lt.alert.category_t.error_notification | lt.alert.category_t.connect_notification | lt.alert.category_t.ip_block_notification | lt.alert.category_t.status_notification})
        threading.Thread(target=log, daemon=True).start()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    # Skip the slow orderly shutdown of every session.
    os._exit(0)


if __name__ == "__main__":
    main()
