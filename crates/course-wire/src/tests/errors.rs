//! Invalid messages are typed errors; what does not fit is not encoded.

use super::*;

#[test]
fn bad_messages_are_errors() {
    // Truncated header and bodies.
    assert_eq!(
        Message::decode(&h("010400")),
        Err(DecodeError::Truncated("header"))
    );
    assert_eq!(
        Message::decode(&h("0104000000000007abcd")),
        Err(DecodeError::Truncated("message"))
    );
    assert_eq!(
        Message::decode(&h("0200000000000002")),
        Err(DecodeError::Version(2))
    );
    assert_eq!(
        Message::decode(&h("0109000000000002")),
        Err(DecodeError::UnknownType(9))
    );
    assert_eq!(
        Message::decode(&h("0100000000000000")),
        Err(DecodeError::LengthTooSmall(0))
    );
    assert_eq!(
        Message::decode(&h("0100000000000001")),
        Err(DecodeError::LengthTooSmall(1))
    );
    assert!(matches!(
        Message::decode(&h("01050000ffffffff")),
        Err(DecodeError::TooLarge { .. })
    ));
    // A CHUNK whose content length points past the message.
    let mut c = Message::Chunk {
        hash: [1; 20],
        content: vec![1; 8],
    }
    .encode()
    .unwrap();
    c[31] = 200;
    assert_eq!(
        Message::decode(&c),
        Err(DecodeError::Truncated("chunk_content"))
    );
    // A CHUNK whose msg_length has room for more than its content and padding.
    let mut c = Message::Chunk {
        hash: [1; 20],
        content: vec![1; 8],
    }
    .encode()
    .unwrap();
    c.extend_from_slice(&[0; 4]);
    c[7] += 1;
    assert!(matches!(
        Message::decode(&c),
        Err(DecodeError::BadLength { .. })
    ));
    // A FILE_INFO announcing 65535 chunks in a short body: no huge allocation, an error.
    let bad = h("0103000000000004ffff000000000000");
    assert_eq!(
        Message::decode(&bad),
        Err(DecodeError::Truncated("chunk_hash"))
    );
    // Invalid UTF-8 filename.
    let bad = h("010300000000000400000002ffff0000");
    assert_eq!(Message::decode(&bad), Err(DecodeError::Utf8("filename")));
}

#[test]
fn encode_rejects_what_does_not_fit() {
    let long = "x".repeat(70_000);
    let m = Message::TrackerInfo(TrackerInfo {
        addr: addr("1.2.3.4:5"),
        name: long,
    });
    assert_eq!(m.encode(), Err(EncodeError::TooLong("tracker_name")));
}

#[test]
fn the_largest_chunk_is_exactly_the_default_maximum() {
    let p = chunk_prefix(&[1; 20], MAX_CHUNK_LEN as u32);
    let header = Header::parse(&p[..8].try_into().unwrap());
    assert_eq!(header.total_len(), DEFAULT_MAX_MESSAGE as u64);
    assert_eq!(header.validate(DEFAULT_MAX_MESSAGE), Ok(MsgType::Chunk));
    // One byte more does not fit.
    let p = chunk_prefix(&[1; 20], MAX_CHUNK_LEN as u32 + 1);
    let header = Header::parse(&p[..8].try_into().unwrap());
    assert!(matches!(
        header.validate(DEFAULT_MAX_MESSAGE),
        Err(DecodeError::TooLarge { .. })
    ));
}
