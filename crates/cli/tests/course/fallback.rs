//! Charlie's fallback between peers (a chunk missing, corrupt, a peer silent or
//! dropping) and resume after a failed run.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use sha1::{Digest, Sha1};

use crate::support::*;

#[test]
fn a_chunk_deleted_from_alice_comes_from_bob() {
    let r = Root::new(8);
    let data = r.file("d.bin", 90_000, 10_000); // 9 chunks: A A A AB AB AB B B B
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let shared_hash = ini.lines().find(|l| l.starts_with("3 = ")).unwrap()[4..].to_string();
    let _peers = start_peers(&r, 8);
    // Deleted while Alice runs: the directory is the truth.
    std::fs::remove_file(r.path().join(format!("chunks/alice/{shared_hash}.bin"))).unwrap();
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(r.read("chunks/charlie/d.bin"), data);
    let rep = json(&out);
    let alice = rep["download"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == "127.0.8.2:8001")
        .unwrap()
        .clone();
    // Either Bob took it first, or Alice said CHUNK_NOT_FOUND and Bob gave it.
    assert!(alice["chunks"].as_u64().unwrap() <= 5);
}

#[test]
fn a_chunk_only_alice_had_fails_with_a_clear_error_then_resumes() {
    let r = Root::new(9);
    let data = r.file("e.bin", 90_000, 10_000);
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let only_alice = ini.lines().find(|l| l.starts_with("0 = ")).unwrap()[4..].to_string();
    let saved = r.read(&format!("chunks/alice/{only_alice}.bin"));
    std::fs::remove_file(r.path().join(format!("chunks/alice/{only_alice}.bin"))).unwrap();
    let _peers = start_peers(&r, 9);
    let out = r.run(&["charlie", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&only_alice) && err.contains("not_found"),
        "{err}"
    );
    // The 8 other chunks are on disk, verified; put the chunk back and run again:
    // only that chunk is fetched.
    assert_eq!(r.chunk_names("charlie").len(), 8);
    r.write(&format!("chunks/alice/{only_alice}.bin"), &saved);
    let out = r.run(&["charlie", "1", "--json"]);
    let rep = json(&out);
    assert_eq!(rep["download"]["resumed_chunks"], 8);
    assert_eq!(rep["download"]["fetched_chunks"], 1);
    assert_eq!(r.read("chunks/charlie/e.bin"), data);
}

#[test]
fn resume_refetches_a_corrupt_chunk_and_nothing_verified() {
    let r = Root::new(10);
    let data = r.file("f.bin", 60_000, 10_000);
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let hashes: Vec<String> = ini
        .lines()
        .filter(|l| l.len() == 44 && l.as_bytes()[1] == b' ')
        .map(|l| l[4..].to_string())
        .collect();
    assert_eq!(hashes.len(), 6);
    std::fs::create_dir_all(r.path().join("chunks/charlie")).unwrap();
    // Chunks 0 and 1 already downloaded; chunk 2 on disk but corrupt; a stale temp file.
    for i in 0..2 {
        r.write(
            &format!("chunks/charlie/{}.bin", hashes[i]),
            &data[i * 10_000..(i + 1) * 10_000],
        );
    }
    r.write(&format!("chunks/charlie/{}.bin", hashes[2]), b"garbage");
    r.write(&format!("chunks/charlie/{}.bin.tmp123", hashes[3]), b"half");
    let _peers = start_peers(&r, 10);
    let rep = json(&r.run(&["charlie", "1", "--json"]));
    assert_eq!(rep["download"]["resumed_chunks"], 2);
    assert_eq!(rep["download"]["fetched_chunks"], 4);
    assert_eq!(r.read("chunks/charlie/f.bin"), data);
    assert!(r.chunk_names("charlie").iter().all(|n| !n.contains("tmp")));
}

/// A peer written for the test: it serves `chunks` (hash → the content it sends, right
/// or wrong) strictly request by request, answers CHUNK_NOT_FOUND for anything else,
/// logs every hash asked for, and calls `before_reply` before each reply.
fn scripted_peer(
    addr: &str,
    chunks: HashMap<Vec<u8>, Vec<u8>>,
    before_reply: impl Fn(&[u8]) + Send + Sync + 'static,
) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (l, chunks, before_reply) = (
        TcpListener::bind(addr).unwrap(),
        Arc::new(chunks),
        Arc::new(before_reply),
    );
    let log2 = log.clone();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let (chunks, before_reply, log) = (chunks.clone(), before_reply.clone(), log2.clone());
            thread::spawn(move || {
                let mut req = [0u8; 28];
                while s.read_exact(&mut req).is_ok() {
                    let hash = req[8..28].to_vec();
                    log.lock().unwrap().push(hash.clone());
                    before_reply(&hash);
                    let reply = match chunks.get(&hash) {
                        Some(c) => {
                            let pad = (4 - c.len() % 4) % 4;
                            let words = ((32 + c.len() + pad) / 4) as u32;
                            [
                                h("01050000"),
                                words.to_be_bytes().to_vec(),
                                hash.clone(),
                                (c.len() as u32).to_be_bytes().to_vec(),
                                c.clone(),
                                vec![0; pad],
                            ]
                            .concat()
                        }
                        None => h(NOT_FOUND),
                    };
                    if s.write_all(&reply).is_err() {
                        break;
                    }
                }
            });
        }
    });
    log
}

/// Set once, waited for by others.
#[derive(Default)]
struct Flag(Mutex<bool>, Condvar);

impl Flag {
    fn set(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
    /// Waits until set; gives up after `limit` (only so that a broken engine fails the
    /// test instead of hanging it).
    fn wait(&self, limit: Duration) {
        let g = self.0.lock().unwrap();
        let _ = self.1.wait_timeout_while(g, limit, |set| !*set).unwrap();
    }
}

#[test]
fn a_wrong_digest_is_never_kept_and_the_other_peer_is_asked() {
    let r = Root::new(11);
    let data: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    r.write("files/g.bin", &data);
    let pieces: Vec<&[u8]> = data.chunks(10_000).collect();
    let hashes: Vec<Vec<u8>> = pieces.iter().map(|p| Sha1::digest(p).to_vec()).collect();
    // Chunks 0-4 are Bob's alone; chunk 5 is listed for Alice first, then Bob. Rarest
    // first, Alice's worker asks her for chunk 5 at once while Bob's asks for his own.
    let mut ini = String::from("[description]\nfilename = g.bin\nchunks_count = 6\n\n[chunks]\n");
    for (i, hx) in hashes.iter().enumerate() {
        ini.push_str(&format!("{i} = {}\n", hex::encode(hx)));
    }
    ini.push_str(
        "\n[chunks_peers]\n0 = bob\n1 = bob\n2 = bob\n3 = bob\n4 = bob\n5 = alice, bob\n\n",
    );
    r.write("config/file.ini", ini.as_bytes());
    let shared = hashes[5].clone();
    // Alice's copy of chunk 5 is corrupt (right name, wrong bytes).
    let alice_asked = Arc::new(Flag::default());
    let flag = alice_asked.clone();
    let alice = scripted_peer(
        "127.0.11.2:8001",
        HashMap::from([(shared.clone(), vec![0u8; 10_000])]),
        move |_| flag.set(),
    );
    // Bob has every chunk right, and holds his first reply until Alice has been asked
    // for chunk 5: Alice's wrong copy comes first, whatever the scheduling.
    let bob_chunks: HashMap<Vec<u8>, Vec<u8>> = hashes
        .iter()
        .cloned()
        .zip(pieces.iter().map(|p| p.to_vec()))
        .collect();
    let waited = AtomicBool::new(false);
    let bob = scripted_peer("127.0.11.3:8002", bob_chunks, move |_| {
        if !waited.swap(true, Ordering::SeqCst) {
            alice_asked.wait(Duration::from_secs(60));
        }
    });
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r.read("chunks/charlie/g.bin"), data);
    let rep = json(&out);
    let peer = |addr: &str| {
        rep["download"]["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["addr"] == addr)
            .unwrap()
            .clone()
    };
    // Alice was asked once, for chunk 5, and her copy was dropped...
    assert_eq!(*alice.lock().unwrap(), vec![shared.clone()]);
    assert_eq!(peer("127.0.11.2:8001")["chunks"], 0);
    assert_eq!(peer("127.0.11.2:8001")["failures"]["bad_digest"], 1);
    // ...and Bob, the other peer, was asked for it and gave all six.
    assert!(bob.lock().unwrap().contains(&shared));
    assert_eq!(peer("127.0.11.3:8002")["chunks"], 6);
}

#[test]
fn a_silent_peer_times_out_and_a_dropping_peer_is_left() {
    let r = Root::new(12);
    let data = r.file("h.bin", 60_000, 10_000);
    // Alice accepts, reads the request and never answers.
    fake_peer("127.0.12.2:8001", |s| {
        let mut b = [0u8; 28];
        let _ = s.read_exact(&mut b);
        thread::sleep(Duration::from_secs(30));
    });
    let _bob = r.spawn(&["peer", "bob"]);
    wait_tcp("127.0.12.3:8002");
    // Bob has only the shared and his own chunks: Alice's own chunks cannot come.
    let out = r.run(&["charlie", "1", "--json", "--request-timeout", "1"]);
    assert!(!out.status.success());
    let rep = json(&out);
    assert!(rep["error"].as_str().unwrap().contains("timeout"), "{rep}");
    // Give Bob every chunk: the shared and Alice's ones come from him after the timeout.
    give_bob_everything(&r);
    let rep = json(&r.run(&["charlie", "1", "--json", "--request-timeout", "1"]));
    assert_eq!(rep["identical"], true, "{rep}");
    assert_eq!(r.read("chunks/charlie/h.bin"), data);

    // A peer that closes the connection on every request.
    let r = Root::new(13);
    let data = r.file("i.bin", 30_000, 10_000);
    fake_peer("127.0.13.2:8001", |s| {
        let mut b = [0u8; 28];
        let _ = s.read_exact(&mut b);
    });
    give_bob_everything(&r);
    let _bob = r.spawn(&["peer", "bob"]);
    wait_tcp("127.0.13.3:8002");
    let rep = json(&r.run(&["charlie", "1", "--json"]));
    assert_eq!(rep["identical"], true, "{rep}");
    assert_eq!(r.read("chunks/charlie/i.bin"), data);
}
