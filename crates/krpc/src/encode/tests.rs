use std::net::SocketAddr;

use super::*;
use crate::compact::{Node4, Node6};
use crate::message::{ErrorCode, TransactionId};
use crate::message::{KrpcError, Method, PutArgs, Query, Want};
use crate::Id;
use rand::{Rng, SeedableRng};

fn random_message(rng: &mut impl Rng) -> Message {
    let id = |rng: &mut dyn rand::RngCore| {
        let mut b = [0u8; 20];
        rng.fill_bytes(&mut b);
        Id(b)
    };
    let want = Want {
        n4: rng.gen(),
        n6: rng.gen(),
    };
    let tid = TransactionId::new(
        (0..rng.gen_range(0..10))
            .map(|_| rng.gen::<u8>())
            .collect::<Vec<u8>>(),
    );
    let peer = |rng: &mut dyn rand::RngCore| -> SocketAddr {
        if rng.gen_bool(0.7) {
            SocketAddr::from((rng.gen::<[u8; 4]>(), rng.gen::<u16>()))
        } else {
            SocketAddr::from((rng.gen::<[u8; 16]>(), rng.gen::<u16>()))
        }
    };
    // A canonical bencoded value: a string, an integer, or a list or dictionary
    // (sorted, distinct keys) of strings.
    let value = |rng: &mut dyn rand::RngCore| -> Vec<u8> {
        let string = |rng: &mut dyn rand::RngCore, tag: u8| -> Vec<u8> {
            let n = rng.gen_range(0..12);
            let mut b = format!("{}:", n + 1).into_bytes();
            b.push(tag);
            b.extend((0..n).map(|_| rng.gen::<u8>()));
            b
        };
        match rng.gen_range(0..4) {
            0 => string(rng, b'x'),
            1 => format!("i{}e", rng.gen_range(-1_000_000i64..1_000_000)).into_bytes(),
            2 => {
                let mut b = vec![b'l'];
                for _ in 0..rng.gen_range(0..4) {
                    b.extend(string(rng, b'x'));
                }
                b.push(b'e');
                b
            }
            _ => {
                let mut b = vec![b'd'];
                for tag in [b'a', b'b', b'c'] {
                    if rng.gen() {
                        b.extend(format!("1:{}", tag as char).into_bytes());
                        b.extend(string(rng, b'x'));
                    }
                }
                b.push(b'e');
                b
            }
        }
    };
    let body = match rng.gen_range(0..10) {
        7 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::Get {
                target: id(rng),
                seq: rng.gen::<bool>().then(|| rng.gen_range(-5..1_000_000)),
                want,
            },
        }),
        8 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::SampleInfohashes {
                target: id(rng),
                want,
            },
        }),
        9 => {
            let mutable = rng.gen::<bool>();
            Body::Query(Query {
                id: id(rng),
                read_only: rng.gen(),
                method: Method::Put(Box::new(PutArgs {
                    token: (0..rng.gen_range(0..30)).map(|_| rng.gen()).collect(),
                    v: value(rng),
                    k: mutable.then(|| rng.gen()),
                    sig: mutable.then(|| {
                        let mut s = [0u8; 64];
                        rng.fill_bytes(&mut s);
                        s
                    }),
                    seq: mutable.then(|| rng.gen_range(0..i64::MAX)),
                    cas: (mutable && rng.gen()).then(|| rng.gen_range(0..100)),
                    salt: if mutable && rng.gen() {
                        (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect()
                    } else {
                        Vec::new()
                    },
                })),
            })
        }
        0 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::Ping,
        }),
        1 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::FindNode {
                target: id(rng),
                want,
            },
        }),
        2 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::GetPeers {
                info_hash: id(rng),
                want,
            },
        }),
        3 => Body::Query(Query {
            id: id(rng),
            read_only: rng.gen(),
            method: Method::AnnouncePeer {
                info_hash: id(rng),
                port: rng.gen(),
                implied_port: rng.gen(),
                token: (0..rng.gen_range(0..30)).map(|_| rng.gen()).collect(),
            },
        }),
        4 | 5 => {
            let mut r = Response::new(id(rng));
            if rng.gen() {
                r.nodes = Some(
                    (0..rng.gen_range(0..9))
                        .map(|_| Node4 {
                            id: id(rng),
                            addr: std::net::SocketAddrV4::new(
                                rng.gen::<[u8; 4]>().into(),
                                rng.gen(),
                            ),
                        })
                        .collect(),
                );
            }
            if rng.gen() {
                r.nodes6 = Some(
                    (0..rng.gen_range(0..9))
                        .map(|_| Node6 {
                            id: id(rng),
                            addr: std::net::SocketAddrV6::new(
                                rng.gen::<[u8; 16]>().into(),
                                rng.gen(),
                                0,
                                0,
                            ),
                        })
                        .collect(),
                );
            }
            if rng.gen() {
                r.token = Some((0..rng.gen_range(0..30)).map(|_| rng.gen()).collect());
            }
            if rng.gen() {
                r.values = Some((0..rng.gen_range(0..200)).map(|_| peer(rng)).collect());
            }
            if rng.gen_bool(0.3) {
                r.v = Some(value(rng));
                r.seq = rng.gen::<bool>().then(|| rng.gen_range(-3..1_000));
                r.k = rng.gen::<bool>().then(|| rng.gen());
                r.sig = rng.gen::<bool>().then(|| {
                    let mut s = [0u8; 64];
                    rng.fill_bytes(&mut s);
                    s
                });
            }
            if rng.gen_bool(0.3) {
                r.interval = Some(rng.gen_range(0..21_600));
                r.num = Some(rng.gen_range(0..100_000));
                r.samples = Some((0..rng.gen_range(0..20)).map(|_| id(rng)).collect());
            }
            Body::Response(r)
        }
        _ => Body::Error(KrpcError {
            code: match rng.gen_range(0..10) {
                0 => ErrorCode::Generic,
                1 => ErrorCode::Server,
                2 => ErrorCode::Protocol,
                3 => ErrorCode::MethodUnknown,
                4 => ErrorCode::MessageTooBig,
                5 => ErrorCode::InvalidSignature,
                6 => ErrorCode::SaltTooBig,
                7 => ErrorCode::CasMismatch,
                8 => ErrorCode::SequenceTooOld,
                _ => ErrorCode::Other(rng.gen_range(-1_000_000..1_000_000)),
            },
            message: (0..rng.gen_range(0..40))
                .map(|_| rng.gen_range(' '..='~'))
                .collect(),
        }),
    };
    Message {
        tid,
        version: rng
            .gen::<bool>()
            .then(|| (0..rng.gen_range(0..6)).map(|_| rng.gen()).collect()),
        ip: rng.gen::<bool>().then(|| peer(rng)),
        body,
    }
}

#[test]
fn direct_writer_matches_serde_bencode_byte_for_byte() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for _ in 0..20_000 {
        let m = random_message(&mut rng);
        let direct = m.encode();
        assert_eq!(direct, m.encode_serde(), "{m:?}");
        assert_eq!(direct.len(), m.encoded_len());
        assert_eq!(Message::decode(&direct).unwrap(), m);
    }
}

#[test]
fn integers_encode_like_bencode() {
    for (i, want) in [
        (0i64, "i0e"),
        (7, "i7e"),
        (-3, "i-3e"),
        (65535, "i65535e"),
        (i64::MIN, "i-9223372036854775808e"),
    ] {
        let mut out = Vec::new();
        put_int(&mut out, i);
        assert_eq!(out, want.as_bytes());
    }
}
