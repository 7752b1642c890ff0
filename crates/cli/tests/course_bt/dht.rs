//! The peers' and the tracker's DHT nodes, over a testnet of ours: `peer --dht
//! --announce-chunks` announces a chunk that appears, and `tracker --dht` lists a peer
//! absent from file.ini (a real `swarmlab peer --dht` that joined later) under the
//! chunks it holds.

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::time::Duration;

use swarmlab_course_wire::{FileInfo, Message};

use crate::support::*;

/// The tracker's FILE_INFO: each chunk's peers.
fn file_info(tracker: &str) -> FileInfo {
    let mut s = TcpStream::connect(tracker).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&Message::GetFileInfo.encode().unwrap())
        .unwrap();
    let mut head = [0u8; 8];
    s.read_exact(&mut head).unwrap();
    let words = u32::from_be_bytes(head[4..8].try_into().unwrap()) as usize;
    let mut all = head.to_vec();
    all.resize(words * 4, 0);
    s.read_exact(&mut all[8..]).unwrap();
    match Message::decode(&all).unwrap() {
        Message::FileInfo(fi) => fi,
        other => panic!("not a FILE_INFO: {other:?}"),
    }
}

#[test]
fn the_tracker_augmented_by_the_dht_lists_a_peer_that_joined_later_for_its_chunks() {
    let r = Root::new(167);
    r.file("f.bin", 10_000, 1000);
    let net = testnet(167, 8);
    let bs = net.bootstrap.clone();
    let tracker = r.addr(1, 8000);
    let _t = r.spawn(&[
        "tracker",
        "--no-discovery",
        "--dht",
        "--dht-bootstrap",
        &bs,
        "--dht-refresh",
        "1",
    ]);
    wait_tcp(&tracker);
    // Before carol: file.ini's peers only.
    let before = file_info(&tracker);
    assert_eq!(before.chunks[0].peers.len(), 1);
    // Carol joins with three of the chunks; neither file.ini nor peers.ini names her.
    let carol = r.addr(4, 8004);
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    for i in [0, 5, 9] {
        let h = ini
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{i} = ")))
            .unwrap();
        let from = ["alice", "bob"]
            .iter()
            .map(|p| r.path().join(format!("chunks/{p}/{h}.bin")))
            .find(|p| p.exists())
            .unwrap();
        r.write(
            &format!("chunks/carol/{h}.bin"),
            &std::fs::read(from).unwrap(),
        );
    }
    let _carol = r.spawn(&[
        "peer",
        "carol",
        "--bind",
        &carol,
        "--dht",
        "--dht-bootstrap",
        &bs,
    ]);
    let c: SocketAddrV4 = carol.parse().unwrap();
    let mut fi = file_info(&tracker);
    eventually("the tracker lists carol", Duration::from_secs(60), || {
        fi = file_info(&tracker);
        fi.chunks[0].peers.contains(&c)
    });
    for (i, chunk) in fi.chunks.iter().enumerate() {
        assert_eq!(
            chunk.peers.contains(&c),
            [0, 5, 9].contains(&i),
            "chunk {i}: {:?}",
            chunk.peers
        );
        // file.ini's peers first, as before.
        assert_eq!(
            chunk.peers[..before.chunks[i].peers.len()],
            before.chunks[i].peers[..]
        );
    }
}

#[test]
fn a_peer_announcing_chunks_announces_one_that_appears() {
    let r = Root::new(168);
    r.file("f.bin", 10_000, 1000);
    let net = testnet(168, 8);
    let bs = net.bootstrap.clone();
    let ini = String::from_utf8(r.read("config/file.ini")).unwrap();
    let hash = |i: usize| {
        ini.lines()
            .find_map(|l| l.strip_prefix(&format!("{i} = ")))
            .unwrap()
            .to_string()
    };
    let _alice = r.spawn(&[
        "peer",
        "alice",
        "--rescan-ms",
        "200",
        "--dht",
        "--dht-bootstrap",
        &bs,
        "--announce-chunks",
    ]);
    let lookup_from = "127.168.0.20:0";
    eventually("chunk 0 announced", Duration::from_secs(60), || {
        dht_peers(&hash(0), lookup_from, &bs).contains(&r.alice())
    });
    // Chunk 9 is Bob's only: not announced by Alice...
    assert!(!dht_peers(&hash(9), lookup_from, &bs).contains(&r.alice()));
    // ...until it appears in her directory.
    let h9 = hash(9);
    let data = r.read(&format!("chunks/bob/{h9}.bin"));
    r.write(&format!("chunks/alice/{h9}.bin"), &data);
    eventually("chunk 9 announced", Duration::from_secs(60), || {
        dht_peers(&h9, lookup_from, &bs).contains(&r.alice())
    });
}
