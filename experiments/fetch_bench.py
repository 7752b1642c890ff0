#!/usr/bin/python3
"""fetch benchmark: a 1 GiB torrent from a libtorrent seeder on loopback, downloaded
by `swarmlab fetch` and by a libtorrent client in the same run, on tmpfs.

    /usr/bin/python3 experiments/fetch_bench.py [--size-mib 1024] [--piece-kib 1024]
        [--dir /dev/shm/swarmlab-fetch-bench] [--target-dir /work/target/fetch]

Builds nothing: it runs the release binary `target/release/swarmlab` and the example
`target/release/examples/sha1_rate` of CARGO_TARGET_DIR (or --target-dir); build them
first with

    cargo build --release -p swarmlab
    cargo build --release -p swarmlab-engine --example sha1_rate

It prints one core's SHA-1 rate (the sha1 crate the engine verifies with), then, for
each client, the wall time, CPU seconds (user + system of its process), the rate,
and the ratios: swarmlab / libtorrent time, and swarmlab's rate / the SHA-1 rate.
The libtorrent client is tests/python/lt_fetch.py (one session, given the seeder).
Everything runs on 127.65.0.x; the files live in --dir (tmpfs) and are removed.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def cpu_of(fn):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--piece-kib", type=int, default=1024)
    ap.add_argument("--dir", default="/dev/shm/swarmlab-fetch-bench")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    a = ap.parse_args()
    swarmlab = os.path.join(a.target_dir, "release", "swarmlab")
    sha1_rate = os.path.join(a.target_dir, "release", "examples", "sha1_rate")
    for f in (swarmlab, sha1_rate):
        if not os.path.exists(f):
            sys.exit("missing %s: build it first (see --help)" % f)
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(a.dir)
    try:
        sha = json.loads(subprocess.check_output([sha1_rate, "3"]))["sha1_mb_s"]
        print("SHA-1, one core (sha1 crate): %.0f MB/s" % sha, flush=True)

        seed = subprocess.Popen(
            [PY, os.path.join(ROOT, "tests", "python", "lt_seed.py"), "--dir", os.path.join(a.dir, "seed"),
             "--listen", "127.65.0.2", "--size", str(a.size_mib << 20), "--piece-size", str(a.piece_kib << 10)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        info = json.loads(seed.stdout.readline())
        peer = info["peers"][0]
        total = info["total"]
        print("torrent: %d MiB, %d pieces of %d KiB, libtorrent %s seeding on %s" % (
            total >> 20, info["pieces"], info["piece_size"] >> 10, info["libtorrent_version"], peer), flush=True)

        def ours():
            out = os.path.join(a.dir, "swarmlab-out")
            t0 = time.time()
            r = subprocess.run([swarmlab, "fetch", info["torrent"], "--out", out, "--peer", peer, "--no-dht",
                                "--json", "--quiet"], stdout=subprocess.PIPE, check=True)
            wall = time.time() - t0
            rep = json.loads(r.stdout)
            assert rep["downloaded_bytes"] >= total, rep
            shutil.rmtree(out)
            return wall

        def theirs():
            save = os.path.join(a.dir, "lt-out")
            t0 = time.time()
            r = subprocess.run([PY, os.path.join(ROOT, "tests", "python", "lt_fetch.py"), "--magnet", info["magnet"],
                                "--save", save, "--listen", "127.65.0.3", "--no-dht", "--peer", peer,
                                "--timeout", "600"], stdout=subprocess.PIPE, check=True)
            wall = time.time() - t0
            rep = json.loads(r.stdout)
            assert rep.get("done"), rep
            shutil.rmtree(save)
            return wall

        (w_ours, c_ours) = cpu_of(ours)
        (w_lt, c_lt) = cpu_of(theirs)
        seed.stdin.close()
        seed.wait()
        mb = total / 1e6
        print()
        print("%-22s %9s %9s %10s" % ("client", "wall s", "CPU s", "MB/s"))
        print("%-22s %9.2f %9.2f %10.0f" % ("swarmlab fetch", w_ours, c_ours, mb / w_ours))
        print("%-22s %9.2f %9.2f %10.0f" % ("libtorrent (lt_fetch)", w_lt, c_lt, mb / w_lt))
        print()
        print("time swarmlab / libtorrent: %.2f (below 1: swarmlab faster)" % (w_ours / w_lt))
        print("swarmlab rate / SHA-1 rate: %.0f%%" % (100 * (mb / w_ours) / sha))
        print("load average at the end: %.1f %.1f %.1f" % os.getloadavg())
    finally:
        shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
