#!/usr/bin/python3
"""fetch benchmark: a 1 GiB torrent from a libtorrent seeder on loopback, downloaded
by `swarmlab fetch` and by a libtorrent client in the same run, on tmpfs.

    /usr/bin/python3 experiments/fetch_bench.py [--size-mib 1024] [--piece-kib 1024]
        [--rounds 3] [--dir /dev/shm/swarmlab-fetch-bench] [--target-dir /work/target/fetch]

Builds nothing: it runs the release binary `target/release/swarmlab` and the example
`target/release/examples/sha1_rate` of CARGO_TARGET_DIR (or --target-dir); build them
first with

    cargo build --release -p swarmlab
    cargo build --release -p swarmlab-engine --example sha1_rate

It prints one core's SHA-1 rate (the sha1 crate the engine verifies with), then, for
each download, the wall time, CPU seconds (user + system of the client's process),
the rate, and the libtorrent seeder's CPU seconds during that download (the seeder
and the client share the machine's cores). Each round downloads with both clients,
the first client alternating from round to round (on a VM the first download after
the seeder wrote its file can meet pages the host has taken back, and would be
slower for whichever client went first). Then the medians per client and the ratios
of the medians: swarmlab / libtorrent time, and swarmlab's rate / the SHA-1 rate;
and the bound that the seeder's CPU, one SHA-1 pass and one write of the bytes
(measured before the rounds) put on any client's rate on this machine's cores.
The libtorrent client is tests/python/lt_fetch.py (one session, given the seeder).
Everything runs on 127.65.0.x; the files live in --dir (tmpfs) and are removed.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def proc_cpu(pid):
    """CPU seconds (user + system) used so far by process `pid` (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_rate(path, total):
    """MB/s of writing `total` bytes into a new file at `path` (1 MiB writes), which
    is then removed: what storing the download costs on this file system."""
    block = os.urandom(1 << 20)
    t0 = time.time()
    with open(path, "wb") as f:
        left = total
        while left > 0:
            left -= f.write(block[:min(left, len(block))])
    wall = time.time() - t0
    os.remove(path)
    return total / 1e6 / wall


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
    ap.add_argument("--rounds", type=int, default=3)
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

        mb = total / 1e6
        write = write_rate(os.path.join(a.dir, "write-rate"), total)
        print("writing %d MiB into %s: %.0f MB/s" % (total >> 20, a.dir, write), flush=True)
        runs = {"swarmlab fetch": [], "libtorrent (lt_fetch)": []}
        clients = [("swarmlab fetch", ours), ("libtorrent (lt_fetch)", theirs)]
        print()
        head = "%-6s %-22s %9s %9s %10s %14s"
        row = "%-6s %-22s %9.2f %9.2f %10.0f %14.2f"
        print(head % ("round", "client", "wall s", "CPU s", "MB/s", "seeder CPU s"))
        for r in range(max(1, a.rounds)):
            for name, fn in (clients if r % 2 == 0 else clients[::-1]):
                s0 = proc_cpu(seed.pid)
                (wall, cpu) = cpu_of(fn)
                seeder = proc_cpu(seed.pid) - s0
                runs[name].append((wall, cpu, seeder))
                print(row % (r + 1, name, wall, cpu, mb / wall, seeder), flush=True)
        seed.stdin.close()
        seed.wait()
        print()
        print(head % ("median", "client", "wall s", "CPU s", "MB/s", "seeder CPU s"))
        med = {}
        for name, rs in runs.items():
            med[name] = [statistics.median(x) for x in zip(*rs)]
            w, c, sc = med[name]
            print(row % ("", name, w, c, mb / w, sc))
        w_ours, w_lt = med["swarmlab fetch"][0], med["libtorrent (lt_fetch)"][0]
        print()
        print("time swarmlab / libtorrent: %.2f (below 1: swarmlab faster)" % (w_ours / w_lt))
        print("swarmlab rate / SHA-1 rate: %.0f%%" % (100 * (mb / w_ours) / sha))
        # The seeder shares the cores: its CPU, one SHA-1 pass over the bytes and one
        # write of them bound the rate any client can reach here (receiving costs more).
        cores = os.cpu_count() or 1
        need = med["swarmlab fetch"][2] + mb / sha + mb / write
        bound = cores * mb / need
        print("bound on %d cores from the seeder's CPU, one SHA-1 pass and one write alone: %.0f MB/s (%.0f%% of the SHA-1 rate)"
              % (cores, bound, 100 * bound / sha))
        print("load average at the end: %.1f %.1f %.1f" % os.getloadavg())
    finally:
        shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
