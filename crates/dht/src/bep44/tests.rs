//! BEP 44's test vectors, signing and verification, and the store's rules.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use swarmlab_krpc::Id;

use super::*;
use crate::error::ItemError;

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).unwrap().try_into().unwrap()
}

const HELLO: &[u8] = b"12:Hello World!";
const PUBKEY: &str = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548";

#[test]
fn bep44_test_vectors() {
    // Immutable: the key is the SHA-1 of the bencoded value.
    let i = Item::immutable(HELLO.to_vec()).unwrap();
    assert_eq!(
        i.target().to_hex(),
        "e5f96f6f38320f0f33959cb4d3d656452117aadb"
    );
    // Mutable, no salt, seq 1: the signature BEP 44 gives verifies over our buffer.
    let k = unhex::<32>(PUBKEY);
    assert_eq!(
        signature_buffer(b"", 1, HELLO),
        b"3:seqi1e1:v12:Hello World!"
    );
    let m = Item {
        v: HELLO.to_vec(),
        mutable: Some(item::Mutable {
            k,
            sig: unhex("305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01"),
            seq: 1,
            salt: Vec::new(),
        }),
    };
    assert_eq!(
        m.target().to_hex(),
        "4a533d47ec9c7d95b1ad75f576cffc641853b750"
    );
    m.verify().unwrap();
    // Mutable with salt "foobar".
    assert_eq!(
        signature_buffer(b"foobar", 1, HELLO),
        b"4:salt6:foobar3:seqi1e1:v12:Hello World!"
    );
    let s = Item {
        v: HELLO.to_vec(),
        mutable: Some(item::Mutable {
            k,
            sig: unhex("6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"),
            seq: 1,
            salt: b"foobar".to_vec(),
        }),
    };
    assert_eq!(
        s.target().to_hex(),
        "411eba73b6f087ca51a3795d9c8c938d365e32c1"
    );
    s.verify().unwrap();
    // One changed byte anywhere and the signature fails.
    let mut bad = s.clone();
    bad.v = b"12:Hello World?".to_vec();
    assert_eq!(bad.verify(), Err(ItemError::BadSignature));
    let mut bad = s.clone();
    if let Some(m) = bad.mutable.as_mut() {
        m.seq = 2;
    }
    assert_eq!(bad.verify(), Err(ItemError::BadSignature));
    let mut bad = s;
    if let Some(m) = bad.mutable.as_mut() {
        m.salt = b"foobaz".to_vec();
    }
    assert_eq!(bad.verify(), Err(ItemError::BadSignature));
}

fn key(b: u8) -> SigningKey {
    SigningKey::from_bytes(&[b; 32])
}

#[test]
fn sign_then_verify_and_the_limits() {
    let k = key(7);
    let i = Item::sign(&k, b"i42e".to_vec(), 3, b"s".to_vec()).unwrap();
    i.verify().unwrap();
    assert_eq!(i.seq(), Some(3));
    assert_eq!(
        i.target(),
        mutable_target(&k.verifying_key().to_bytes(), b"s")
    );
    // 1,000 bytes of value are fine, 1,001 are not.
    let v = |n: usize| format!("{}:{}", n - 4, "x".repeat(n - 4)).into_bytes();
    assert_eq!(v(1000).len(), 1000);
    assert!(Item::immutable(v(1000)).is_ok());
    assert_eq!(Item::immutable(v(1001)), Err(ItemError::ValueTooBig(1001)));
    assert_eq!(
        Item::sign(&k, v(1001), 1, Vec::new()),
        Err(ItemError::ValueTooBig(1001))
    );
    // 64 bytes of salt are fine, 65 are not.
    assert!(Item::sign(&k, b"i1e".to_vec(), 1, vec![b's'; 64]).is_ok());
    assert_eq!(
        Item::sign(&k, b"i1e".to_vec(), 1, vec![b's'; 65]),
        Err(ItemError::SaltTooBig(65))
    );
    // A value must be one bencoded value.
    for v in [&b"hello"[..], b"i1ei2e", b"5:abc", b""] {
        assert_eq!(
            Item::immutable(v.to_vec()),
            Err(ItemError::NotBencode),
            "{v:?}"
        );
    }
    // A key that is not a curve point cannot verify anything.
    let mut bad = i.clone();
    if let Some(m) = bad.mutable.as_mut() {
        // y = 2 is not on the curve.
        m.k = [0; 32];
        m.k[0] = 2;
    }
    assert!(matches!(
        bad.verify(),
        Err(ItemError::BadKey | ItemError::BadSignature)
    ));
}

#[test]
fn items_from_responses_are_checked_against_the_target() {
    let k = key(9);
    let item = Item::sign(&k, HELLO.to_vec(), 5, b"salt".to_vec()).unwrap();
    let mut r = swarmlab_krpc::Response::new(Id([1; 20]));
    item.fill_response(&mut r, None);
    let target = item.target();
    assert_eq!(
        Item::from_response(&r, &target, b"salt").unwrap(),
        Some(item.clone())
    );
    // Another salt, another target: refused.
    assert_eq!(
        Item::from_response(&r, &target, b"pepper"),
        Err(ItemError::WrongTarget)
    );
    // A forged value under the right key: the signature fails.
    let mut forged = r.clone();
    forged.v = Some(b"4:evil".to_vec());
    assert_eq!(
        Item::from_response(&forged, &target, b"salt"),
        Err(ItemError::BadSignature)
    );
    // An immutable value that does not hash to the target.
    let mut r = swarmlab_krpc::Response::new(Id([1; 20]));
    r.v = Some(b"4:evil".to_vec());
    assert_eq!(
        Item::from_response(&r, &immutable_target(HELLO), b""),
        Err(ItemError::WrongTarget)
    );
    // No v: no item.
    let r = swarmlab_krpc::Response::new(Id([1; 20]));
    assert_eq!(Item::from_response(&r, &target, b""), Ok(None));
    // A `seq` in the get that the stored item is not newer than: only the seq.
    let mut r = swarmlab_krpc::Response::new(Id([1; 20]));
    item.fill_response(&mut r, Some(5));
    assert_eq!(
        (r.seq, r.v.is_none(), r.sig.is_none()),
        (Some(5), true, true)
    );
}

#[test]
fn store_keeps_the_newest_and_honours_cas() {
    let t0 = Instant::now();
    let mut st = ItemStore::new(ItemStoreConfig::default()).unwrap();
    let k = key(1);
    let v = |seq: i64, s: &str| {
        Item::sign(&k, format!("{}:{s}", s.len()).into_bytes(), seq, Vec::new()).unwrap()
    };
    let target = v(1, "a").target();
    assert_eq!(st.put(t0, v(1, "a"), None), Ok(PutOutcome::Stored));
    assert_eq!(st.put(t0, v(1, "a"), None), Ok(PutOutcome::Refreshed));
    assert_eq!(
        st.put(t0, v(1, "b"), None),
        Err(ItemError::SequenceTooOld { stored: 1, seq: 1 }),
        "same seq, another value"
    );
    assert_eq!(st.put(t0, v(3, "c"), None), Ok(PutOutcome::Replaced));
    assert_eq!(
        st.put(t0, v(2, "d"), None),
        Err(ItemError::SequenceTooOld { stored: 3, seq: 2 })
    );
    assert_eq!(
        st.put(t0, v(4, "e"), Some(2)),
        Err(ItemError::CasMismatch { stored: 3, cas: 2 })
    );
    assert_eq!(st.put(t0, v(4, "e"), Some(3)), Ok(PutOutcome::Replaced));
    assert_eq!(st.get(t0, &target).unwrap().v, b"1:e");
    assert_eq!(st.len(), 1);
}

#[test]
fn store_is_bounded_and_items_expire() {
    let t0 = Instant::now();
    let cfg = ItemStoreConfig {
        max_items: 3,
        ttl: Duration::from_secs(100),
    };
    let mut st = ItemStore::new(cfg).unwrap();
    let item = |i: u32| Item::immutable(format!("i{i}e").into_bytes()).unwrap();
    for i in 0..10u32 {
        st.put(t0 + Duration::from_secs(u64::from(i)), item(i), None)
            .unwrap();
        assert!(st.len() <= 3);
    }
    assert_eq!(st.evicted(), 7);
    // The three most recent are kept.
    let now = t0 + Duration::from_secs(10);
    assert!(st.get(now, &item(6).target()).is_none());
    for i in 7..10 {
        assert!(st.get(now, &item(i).target()).is_some(), "{i}");
    }
    // Item 7 was put at t0 + 7 s: gone 100 s later; 9 is still there.
    let later = t0 + Duration::from_secs(107);
    assert!(st.get(later, &item(7).target()).is_none());
    assert!(st.get(later, &item(9).target()).is_some());
    assert_eq!(st.len(), 2);
    assert!(ItemStore::new(ItemStoreConfig {
        max_items: 0,
        ..cfg
    })
    .is_err());
}
