//! `.torrent` metainfo files (BEP 3, v1 and the v1 part of hybrid torrents).
//!
//! The info-hash is the SHA-1 of the exact bytes of the `info` value as they
//! appear in the file: [`crate::bencode::dict_value_span`] locates them, and
//! serde_bencode decodes the fields. Nothing here builds a file-system path.

use crate::bencode;
use crate::error::MetainfoError;
use crate::InfoHash;
use serde::Deserialize;

/// Largest `.torrent` file accepted (bytes).
pub const MAX_TORRENT_SIZE: usize = 64 << 20;
/// Largest info dictionary accepted (bytes), for files and for ut_metadata.
pub const MAX_INFO_SIZE: usize = 32 << 20;
/// Most files listed in a multi-file torrent.
pub const MAX_FILES: usize = 1_000_000;

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path components, lossily converted to UTF-8 (display only).
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
}

/// The parsed `info` dictionary.
#[derive(Debug, Clone)]
pub struct Info {
    /// SHA-1 of the raw info bytes.
    pub info_hash: InfoHash,
    /// The raw info bytes, as hashed.
    pub raw: Vec<u8>,
    /// Suggested name (lossy UTF-8).
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u64,
    /// SHA-1 hash of every piece.
    pub pieces: Vec<[u8; 20]>,
    /// Files (one entry for a single-file torrent).
    pub files: Vec<FileEntry>,
    /// True for a multi-file torrent.
    pub multi_file: bool,
    /// The `private` flag (BEP 27).
    pub private: bool,
}

#[derive(Deserialize)]
struct RawFile {
    length: u64,
    #[serde(default)]
    path: Vec<serde_bytes::ByteBuf>,
}

#[derive(Deserialize)]
struct RawInfo {
    #[serde(default)]
    name: Option<serde_bytes::ByteBuf>,
    #[serde(rename = "piece length")]
    piece_length: Option<u64>,
    #[serde(default)]
    pieces: Option<serde_bytes::ByteBuf>,
    #[serde(default)]
    length: Option<u64>,
    #[serde(default)]
    files: Option<Vec<RawFile>>,
    #[serde(default)]
    private: Option<i64>,
    #[serde(default, rename = "meta version")]
    meta_version: Option<i64>,
}

#[derive(Deserialize)]
struct RawTorrent {
    #[serde(default)]
    announce: Option<serde_bytes::ByteBuf>,
    #[serde(default, rename = "announce-list")]
    announce_list: Option<Vec<Vec<serde_bytes::ByteBuf>>>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Info {
    /// Parse raw info-dictionary bytes (from a file or from ut_metadata).
    pub fn from_bytes(raw: &[u8]) -> Result<Info, MetainfoError> {
        if raw.len() > MAX_INFO_SIZE {
            return Err(MetainfoError::TooLarge(raw.len()));
        }
        bencode::validate(raw)?;
        if raw.first() != Some(&b'd') {
            return Err(MetainfoError::NoInfo);
        }
        let ri: RawInfo = serde_bencode::from_bytes(raw)?;
        let pieces_raw = match ri.pieces {
            Some(p) => p,
            None if ri.meta_version == Some(2) => return Err(MetainfoError::V2Only),
            None => return Err(MetainfoError::Missing("pieces")),
        };
        let piece_length = ri
            .piece_length
            .ok_or(MetainfoError::Missing("piece length"))?;
        if piece_length == 0 || piece_length > (1 << 30) {
            return Err(MetainfoError::PieceLength(piece_length));
        }
        if pieces_raw.len() % 20 != 0 {
            return Err(MetainfoError::PiecesNotMultipleOf20(pieces_raw.len()));
        }
        let pieces: Vec<[u8; 20]> = pieces_raw
            .chunks_exact(20)
            .map(|c| c.try_into().expect("20-byte chunk"))
            .collect();
        let name = ri.name.as_ref().map(|n| lossy(n)).unwrap_or_default();
        let (files, multi_file) = match (ri.length, ri.files) {
            (Some(len), None) => (
                vec![FileEntry {
                    path: vec![name.clone()],
                    length: len,
                }],
                false,
            ),
            (None, Some(files)) => {
                if files.is_empty() || files.len() > MAX_FILES {
                    return Err(MetainfoError::FileCount(files.len()));
                }
                let files = files
                    .into_iter()
                    .map(|f| FileEntry {
                        path: f.path.iter().map(|p| lossy(p)).collect(),
                        length: f.length,
                    })
                    .collect();
                (files, true)
            }
            (Some(_), Some(_)) => return Err(MetainfoError::LengthAndFiles),
            (None, None) => return Err(MetainfoError::Missing("length` or `files")),
        };
        let total = files
            .iter()
            .try_fold(0u64, |acc, f| acc.checked_add(f.length))
            .ok_or(MetainfoError::TotalOverflow)?;
        let expected = total.div_ceil(piece_length);
        if expected != pieces.len() as u64 {
            return Err(MetainfoError::PieceCount {
                total,
                piece_length,
                expected,
                got: pieces.len(),
            });
        }
        Ok(Info {
            info_hash: InfoHash::of(raw),
            raw: raw.to_vec(),
            name,
            piece_length,
            pieces,
            files,
            multi_file,
            private: ri.private == Some(1),
        })
    }

    /// Total payload size in bytes.
    pub fn total_length(&self) -> u64 {
        self.files.iter().map(|f| f.length).sum()
    }

    /// Number of pieces.
    pub fn num_pieces(&self) -> usize {
        self.pieces.len()
    }

    /// Size of piece `index` (the last one may be shorter).
    pub fn piece_size(&self, index: usize) -> u64 {
        let total = self.total_length();
        let start = index as u64 * self.piece_length;
        total.saturating_sub(start).min(self.piece_length)
    }
}

/// A parsed `.torrent` file.
#[derive(Debug, Clone)]
pub struct Metainfo {
    /// The info dictionary.
    pub info: Info,
    /// Tracker URLs, `announce` first then `announce-list` tiers flattened, deduplicated.
    pub trackers: Vec<String>,
}

impl Metainfo {
    /// Parse the bytes of a `.torrent` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Metainfo, MetainfoError> {
        if bytes.len() > MAX_TORRENT_SIZE {
            return Err(MetainfoError::TooLarge(bytes.len()));
        }
        bencode::validate(bytes)?;
        let span = bencode::dict_value_span(bytes, b"info")?.ok_or(MetainfoError::NoInfo)?;
        let info = Info::from_bytes(&bytes[span])?;
        let rt: RawTorrent = serde_bencode::from_bytes(bytes)?;
        let mut trackers: Vec<String> = Vec::new();
        let mut push = |t: &[u8]| {
            let s = lossy(t).trim().to_string();
            if !s.is_empty() && !trackers.contains(&s) && trackers.len() < 256 {
                trackers.push(s);
            }
        };
        if let Some(a) = &rt.announce {
            push(a);
        }
        for tier in rt.announce_list.iter().flatten() {
            for t in tier {
                push(t);
            }
        }
        Ok(Metainfo { info, trackers })
    }

    /// The info-hash.
    pub fn info_hash(&self) -> InfoHash {
        self.info.info_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bencode::{dict, Value};

    fn info_single(len: u64, plen: u64) -> Value {
        let n = len.div_ceil(plen) as usize;
        dict([
            ("length", Value::Int(len as i64)),
            ("name", Value::bytes("file.bin")),
            ("piece length", Value::Int(plen as i64)),
            ("pieces", Value::bytes(vec![7u8; 20 * n])),
        ])
    }

    #[test]
    fn single_file_hash_uses_exact_bytes() {
        let info = info_single(40_000, 16_384);
        let info_bytes = info.encode();
        let torrent = dict([
            ("announce", Value::bytes("http://127.0.0.1:1/announce")),
            ("info", info),
        ])
        .encode();
        let m = Metainfo::from_bytes(&torrent).unwrap();
        assert_eq!(m.info_hash(), InfoHash::of(&info_bytes));
        assert_eq!(m.info.num_pieces(), 3);
        assert_eq!(m.info.piece_size(2), 40_000 - 2 * 16_384);
        assert_eq!(m.trackers, vec!["http://127.0.0.1:1/announce"]);
        assert!(!m.info.multi_file);
    }

    #[test]
    fn unsorted_keys_hash_as_written() {
        // Keys out of order: a re-encoder would sort them and change the hash.
        let info_bytes = b"d6:lengthi3e4:name1:x12:piece lengthi4e6:pieces20:AAAAAAAAAAAAAAAAAAAA7:privatei1e3:zzzi0e3:aaai0ee";
        let mut t = b"d4:info".to_vec();
        t.extend_from_slice(info_bytes);
        t.extend_from_slice(b"e");
        let m = Metainfo::from_bytes(&t).unwrap();
        assert_eq!(m.info_hash(), InfoHash::of(info_bytes));
        assert!(m.info.private);
    }

    #[test]
    fn multi_file_and_announce_list() {
        let info = dict([
            (
                "files",
                Value::List(vec![
                    dict([
                        ("length", Value::Int(10)),
                        (
                            "path",
                            Value::List(vec![Value::bytes("a"), Value::bytes("b.txt")]),
                        ),
                    ]),
                    dict([
                        ("length", Value::Int(30)),
                        ("path", Value::List(vec![Value::bytes("c")])),
                    ]),
                ]),
            ),
            ("name", Value::bytes("dir")),
            ("piece length", Value::Int(16)),
            ("pieces", Value::bytes(vec![1u8; 60])),
        ]);
        let torrent = dict([
            (
                "announce-list",
                Value::List(vec![
                    Value::List(vec![Value::bytes("udp://127.0.0.1:2")]),
                    Value::List(vec![
                        Value::bytes("http://127.0.0.1:3/a"),
                        Value::bytes("udp://127.0.0.1:2"),
                    ]),
                ]),
            ),
            ("info", info),
        ])
        .encode();
        let m = Metainfo::from_bytes(&torrent).unwrap();
        assert!(m.info.multi_file);
        assert_eq!(m.info.total_length(), 40);
        assert_eq!(m.info.files[0].path, vec!["a", "b.txt"]);
        assert_eq!(
            m.trackers,
            vec!["udp://127.0.0.1:2", "http://127.0.0.1:3/a"]
        );
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors() {
        let torrent = dict([("info", info_single(40_000, 16_384))]).encode();
        for cut in [0, 1, 5, torrent.len() / 2, torrent.len() - 1] {
            assert!(Metainfo::from_bytes(&torrent[..cut]).is_err(), "cut {cut}");
        }
        let mut corrupt = torrent.clone();
        corrupt[3] = b'x';
        assert!(Metainfo::from_bytes(&corrupt).is_err());
        assert!(matches!(
            Metainfo::from_bytes(b"d3:fooi1ee"),
            Err(MetainfoError::NoInfo)
        ));
        assert!(Metainfo::from_bytes(b"i1e").is_err());
        // Wrong number of piece hashes.
        let bad = dict([(
            "info",
            dict([
                ("length", Value::Int(100)),
                ("name", Value::bytes("x")),
                ("piece length", Value::Int(16)),
                ("pieces", Value::bytes(vec![0u8; 40])),
            ]),
        )])
        .encode();
        assert!(matches!(
            Metainfo::from_bytes(&bad),
            Err(MetainfoError::PieceCount {
                expected: 7,
                got: 2,
                ..
            })
        ));
        // `pieces` not a multiple of 20.
        let bad = dict([(
            "info",
            dict([
                ("length", Value::Int(1)),
                ("name", Value::bytes("x")),
                ("piece length", Value::Int(16)),
                ("pieces", Value::bytes(vec![0u8; 19])),
            ]),
        )])
        .encode();
        assert!(Metainfo::from_bytes(&bad).is_err());
        // Wrong types.
        let bad = dict([(
            "info",
            dict([
                ("length", Value::bytes("many")),
                ("piece length", Value::Int(16)),
                ("pieces", Value::bytes(vec![0u8; 20])),
            ]),
        )])
        .encode();
        assert!(matches!(
            Metainfo::from_bytes(&bad),
            Err(MetainfoError::Field(_))
        ));
        // Random garbage never panics.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..2000 {
            let mut t = torrent.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..t.len());
                t[i] = rng.gen();
            }
            let _ = Metainfo::from_bytes(&t);
        }
    }

    /// `MAX_TORRENT_SIZE`: a well-formed torrent one byte over the cap (padded with a
    /// long unknown key, which the parser would otherwise accept) is refused.
    #[test]
    fn torrent_size_cap() {
        let build = |pad: usize| {
            dict([
                ("info", info_single(40_000, 16_384)),
                ("padding", Value::bytes(vec![b'p'; pad])),
            ])
            .encode()
        };
        // With `pad` bytes the encoding is `base + pad` plus the 7 more digits of
        // an 8-digit length prefix (`67108xxx:` against `0:`).
        let base = build(0).len();
        let at_cap = build(MAX_TORRENT_SIZE - base - 7);
        assert_eq!(at_cap.len(), MAX_TORRENT_SIZE);
        assert!(Metainfo::from_bytes(&at_cap).is_ok());
        let over = build(MAX_TORRENT_SIZE - base - 6);
        assert_eq!(over.len(), MAX_TORRENT_SIZE + 1);
        assert!(matches!(
            Metainfo::from_bytes(&over),
            Err(MetainfoError::TooLarge(n)) if n == MAX_TORRENT_SIZE + 1
        ));
    }
}
