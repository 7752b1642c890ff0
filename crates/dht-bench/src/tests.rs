//! The generator's wire templates, id classes and percentiles.

use super::*;

#[test]
fn query_encoding_parses_back() {
    let mut out = Vec::new();
    encode_query(
        &mut out,
        Kind::GetPeers,
        &[1; 20],
        &[2; 20],
        0x01020304,
        true,
    );
    let m = swarmlab_krpc::Message::decode(&out).unwrap();
    assert!(matches!(m.body, swarmlab_krpc::Body::Query(_)));
    assert_eq!(top_t_y(&out), Some((&[1u8, 2, 3, 4][..], b'q')));
    encode_response(&mut out, &[3; 20], b"ab");
    assert!(swarmlab_krpc::Message::decode(&out).is_ok());
    assert_eq!(top_t_y(&out), Some((&b"ab"[..], b'r')));
}

#[test]
fn ids_fall_in_their_class() {
    let c = [0x55u8; 20];
    let ids = ids_by_distance(&c, 30, 4, &mut rand::thread_rng());
    assert_eq!(ids.len(), 120);
    for (i, id) in ids.iter().enumerate() {
        let a = swarmlab_krpc::Id(*id);
        assert_eq!(a.common_prefix_len(&swarmlab_krpc::Id(c)), (i / 4) as u32);
    }
}

#[test]
fn percentiles() {
    let v: Vec<u32> = (1..=100).collect();
    assert_eq!(percentile(&v, 50.0), 50);
    assert_eq!(percentile(&v, 99.0), 99);
    assert_eq!(percentile::<u32>(&[], 50.0), 0);
}
