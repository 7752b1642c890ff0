//! Every vector of `course-vectors.md`: encode gives the bytes, decode gives the fields.

use super::*;
use sha1::{Digest, Sha1};
#[test]
fn setup_a_chunk_hashes_are_sha1_of_contents() {
    for (content, hx) in ["The quick ", "brown fox ", "jumps"].iter().zip(A_HASHES) {
        assert_eq!(hex::encode(Sha1::digest(content.as_bytes())), hx);
    }
}

#[test]
fn a1_discover_tracker() {
    both_ways(&Message::DiscoverTracker, "0100000000000002");
}

#[test]
fn a2_tracker_info() {
    let m = Message::TrackerInfo(TrackerInfo {
        addr: addr("127.0.0.1:8000"),
        name: "tracker".into(),
    });
    both_ways(&m, "01010000000000067f0000011f400007747261636b657200");
}

#[test]
fn a3_get_file_info() {
    both_ways(&Message::GetFileInfo, "0102000000000002");
}

#[test]
fn a4_file_info_both_ways() {
    both_ways(&Message::FileInfo(a4_file_info()), A4);
}

#[test]
fn a4_file_info_sent_with_type_5_is_accepted_as_a_reply() {
    let mut bytes = h(A4);
    bytes[1] = 5;
    // As a plain message it is a CHUNK of the wrong shape...
    assert!(Message::decode(&bytes).is_err());
    // ...but as the reply to GET_FILE_INFO it is a FILE_INFO (rule 4.3).
    let m = Message::decode_reply_as(MsgType::FileInfo, &bytes, DEFAULT_MAX_MESSAGE).unwrap();
    assert_eq!(m, Message::FileInfo(a4_file_info()));
    // An ERROR stays an ERROR.
    let e = Message::decode_reply_as(MsgType::FileInfo, &h("010600000000000300010000"), 1 << 20);
    assert_eq!(e.unwrap(), Message::Error(ErrorCode::InvalidRequest));
}

#[test]
fn a5_get_chunk() {
    for hx in A_HASHES {
        both_ways(
            &Message::GetChunk(hash(hx)),
            &format!("0104000000000007{hx}"),
        );
    }
}

#[test]
fn a6_chunk() {
    both_ways(
        &Message::Chunk {
            hash: hash(A_HASHES[0]),
            content: b"The quick ".to_vec(),
        },
        "010500000000000b4d39faadbf264f3fb59268228994276c36fc31720000000a54686520717569636b200000",
    );
    both_ways(
        &Message::Chunk {
            hash: hash(A_HASHES[1]),
            content: b"brown fox ".to_vec(),
        },
        "010500000000000b729e3121ba0b87facdd975695c0e907a1f89d2440000000a62726f776e20666f78200000",
    );
    both_ways(
        &Message::Chunk {
            hash: hash(A_HASHES[2]),
            content: b"jumps".to_vec(),
        },
        "010500000000000aeda92612cf24747e95b6d9df90a329a254dcfa36000000056a756d7073000000",
    );
}

#[test]
fn a7_errors() {
    both_ways(
        &Message::Error(ErrorCode::ChunkNotFound),
        "010600000000000300020000",
    );
    both_ways(
        &Message::Error(ErrorCode::InvalidRequest),
        "010600000000000300010000",
    );
    both_ways(
        &Message::Error(ErrorCode::InvalidMessageFormat),
        "010600000000000300000000",
    );
    assert_eq!(
        error_message(ErrorCode::ChunkNotFound).to_vec(),
        h("010600000000000300020000")
    );
    assert_eq!(
        Message::decode(&h("010600000000000300070000")).unwrap(),
        Message::Error(ErrorCode::Other(7))
    );
}

fn header(s: &str) -> Header {
    Header::parse(&h(s).try_into().unwrap())
}

#[test]
fn a7_server_replies_from_headers() {
    use ErrorCode::*;
    // Alice (serves GET_CHUNK).
    assert_eq!(
        header("0104000000000007").classify_request(MsgType::GetChunk),
        Ok(())
    );
    assert_eq!(
        header("0102000000000002").classify_request(MsgType::GetChunk),
        Err(InvalidRequest)
    );
    assert_eq!(
        header("0204000000000002").classify_request(MsgType::GetChunk),
        Err(InvalidMessageFormat)
    );
    // Tracker over TCP (serves GET_FILE_INFO).
    assert_eq!(
        header("0104000000000007").classify_request(MsgType::GetFileInfo),
        Err(InvalidRequest)
    );
    assert_eq!(
        header("0202000000000002").classify_request(MsgType::GetFileInfo),
        Err(InvalidMessageFormat)
    );
    assert_eq!(
        header("0102000000000002").classify_request(MsgType::GetFileInfo),
        Ok(())
    );
    // Tracker over UDP (serves DISCOVER_TRACKER).
    assert_eq!(
        header("0102000000000002").classify_request(MsgType::DiscoverTracker),
        Err(InvalidRequest)
    );
    assert_eq!(
        header("0200000000000002").classify_request(MsgType::DiscoverTracker),
        Err(InvalidMessageFormat)
    );
    // Type outside 0..6, wrong lengths, reserved ignored.
    assert_eq!(
        header("0109000000000002").classify_request(MsgType::GetChunk),
        Err(InvalidMessageFormat)
    );
    for words in ["00000000", "00000001", "00000002", "00000008", "ffffffff"] {
        let r = header(&format!("01040000{words}")).classify_request(MsgType::GetChunk);
        assert_eq!(
            r,
            Err(InvalidMessageFormat),
            "GET_CHUNK with msg_length {words}"
        );
    }
    assert_eq!(
        header("0102000000000003").classify_request(MsgType::GetFileInfo),
        Err(InvalidMessageFormat)
    );
    assert_eq!(
        header("0104abcd00000007").classify_request(MsgType::GetChunk),
        Ok(())
    );
}

#[test]
fn setup_b_vectors() {
    let alice = addr("127.0.0.2:50007");
    let bob = addr("127.0.0.3:50008");
    let hashes = [
        "c4b5c86bd577da3d93fea7c89cba61c78b48e589",
        "83787f060a59493aefdcd4b2369990e7303e186e",
        "16b06bd9b738835e2d134fe8d596e9ab0086a985",
    ];
    for (c, hx) in ["0123", "4567", "89"].iter().zip(hashes) {
        assert_eq!(hex::encode(Sha1::digest(c.as_bytes())), hx);
    }
    let fi = FileInfo {
        filename: "abcd".into(),
        chunks: vec![
            ChunkRecord {
                hash: hash(hashes[0]),
                peers: vec![alice],
            },
            ChunkRecord {
                hash: hash(hashes[1]),
                peers: vec![alice, bob],
            },
            ChunkRecord {
                hash: hash(hashes[2]),
                peers: vec![bob],
            },
        ],
    };
    both_ways(&Message::FileInfo(fi), "010300000000001e0003000461626364c4b5c86bd577da3d93fea7c89cba61c78b48e589000100007f000002c357000083787f060a59493aefdcd4b2369990e7303e186e000200007f000002c35700007f000003c358000016b06bd9b738835e2d134fe8d596e9ab0086a985000100007f000003c3580000");
    both_ways(
        &Message::TrackerInfo(TrackerInfo {
            addr: addr("127.0.0.4:8000"),
            name: "tracker".into(),
        }),
        "01010000000000067f0000041f400007747261636b657200",
    );
    both_ways(
        &Message::Chunk {
            hash: hash(hashes[0]),
            content: b"0123".to_vec(),
        },
        "0105000000000009c4b5c86bd577da3d93fea7c89cba61c78b48e5890000000430313233",
    );
}

#[test]
fn setup_c_chunk_framing() {
    let hsh = [0xab; 20];
    let p = chunk_prefix(&hsh, 524288);
    assert_eq!(&p[..8], &h("0105000000020008")[..]);
    assert_eq!(&p[28..], &h("00080000")[..]);
    let msg = Message::Chunk {
        hash: hsh,
        content: vec![7; 524288],
    };
    assert_eq!(msg.encoded_len(), 524320);
    let p = chunk_prefix(&hsh, 78561);
    assert_eq!(&p[..8], &h("0105000000004cc1")[..]);
    assert_eq!(&p[28..], &h("000132e1")[..]);
    let msg = Message::Chunk {
        hash: hsh,
        content: vec![7; 78561],
    };
    let bytes = msg.encode().unwrap();
    assert_eq!(bytes.len(), 78596);
    assert_eq!(&bytes[78593..], &[0, 0, 0]);
    assert_eq!(bytes[78592], 7);
    assert_eq!(Message::decode(&bytes).unwrap(), msg);
}

#[test]
fn non_ascii_names_are_counted_in_bytes_never_truncated() {
    let name = "été – ファイル.bin";
    let m = Message::FileInfo(FileInfo {
        filename: name.into(),
        chunks: vec![],
    });
    let b = m.encode().unwrap();
    assert_eq!(u16::from_be_bytes([b[10], b[11]]) as usize, name.len());
    assert_eq!(Message::decode(&b).unwrap(), m);
    let t = Message::TrackerInfo(TrackerInfo {
        addr: addr("10.0.0.1:1"),
        name: "трекер".into(),
    });
    assert_eq!(Message::decode(&t.encode().unwrap()).unwrap(), t);
}
