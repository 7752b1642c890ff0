//! ut_metadata (BEP 9): the messages, and the assembly of the info dictionary
//! from its pieces, checked against the info-hash.

use crate::bencode::{self, dict, Value};
use crate::error::{AssembleError, ExtError};

/// ut_metadata piece size.
pub const METADATA_PIECE: usize = 16 * 1024;
/// Largest `metadata_size` we accept.
pub const MAX_METADATA_SIZE: u64 = crate::metainfo::MAX_INFO_SIZE as u64;
/// A ut_metadata message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataMsg {
    /// msg_type 0
    Request {
        /// Piece index.
        piece: u32,
    },
    /// msg_type 1, followed by the piece bytes.
    Data {
        /// Piece index.
        piece: u32,
        /// `total_size` of the info dictionary.
        total_size: u64,
        /// The piece's bytes (at most 16 KiB).
        data: Vec<u8>,
    },
    /// msg_type 2
    Reject {
        /// Piece index.
        piece: u32,
    },
}

impl MetadataMsg {
    /// Encode a ut_metadata payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MetadataMsg::Request { piece } => dict([
                ("msg_type", Value::Int(0)),
                ("piece", Value::Int(i64::from(*piece))),
            ])
            .encode(),
            MetadataMsg::Reject { piece } => dict([
                ("msg_type", Value::Int(2)),
                ("piece", Value::Int(i64::from(*piece))),
            ])
            .encode(),
            MetadataMsg::Data {
                piece,
                total_size,
                data,
            } => {
                let mut out = dict([
                    ("msg_type", Value::Int(1)),
                    ("piece", Value::Int(i64::from(*piece))),
                    ("total_size", Value::Int(*total_size as i64)),
                ])
                .encode();
                out.extend_from_slice(data);
                out
            }
        }
    }

    /// Decode a ut_metadata payload (a dictionary, plus the piece bytes for data).
    pub fn decode(payload: &[u8]) -> Result<MetadataMsg, ExtError> {
        let (v, used) = bencode::decode_prefix(payload)?;
        v.as_dict().ok_or(ExtError::NotDict)?;
        let msg_type = v
            .get("msg_type")
            .and_then(Value::as_int)
            .ok_or(ExtError::Field("msg_type"))?;
        let piece = v
            .get("piece")
            .and_then(Value::as_int)
            .ok_or(ExtError::Field("piece"))?;
        let piece = u32::try_from(piece).map_err(|_| ExtError::Range("piece"))?;
        let rest = &payload[used..];
        match msg_type {
            0 => Ok(MetadataMsg::Request { piece }),
            2 => Ok(MetadataMsg::Reject { piece }),
            1 => {
                let total = v
                    .get("total_size")
                    .and_then(Value::as_int)
                    .ok_or(ExtError::Field("total_size"))?;
                if total <= 0 || total as u64 > MAX_METADATA_SIZE {
                    return Err(ExtError::Range("total_size"));
                }
                if rest.len() > METADATA_PIECE {
                    return Err(ExtError::Range("piece data"));
                }
                Ok(MetadataMsg::Data {
                    piece,
                    total_size: total as u64,
                    data: rest.to_vec(),
                })
            }
            _ => Err(ExtError::Range("msg_type")),
        }
    }
}

/// Assembles an info dictionary from ut_metadata pieces, bounded by its declared size.
#[derive(Debug)]
pub struct MetadataAssembler {
    size: usize,
    buf: Vec<u8>,
    have: Vec<bool>,
}

impl MetadataAssembler {
    /// Start assembling `size` bytes (checked against [`MAX_METADATA_SIZE`] by the caller's
    /// decoding of `metadata_size`).
    pub fn new(size: u64) -> MetadataAssembler {
        let size = size.min(MAX_METADATA_SIZE) as usize;
        let n = size.div_ceil(METADATA_PIECE);
        MetadataAssembler {
            size,
            buf: vec![0; size],
            have: vec![false; n],
        }
    }
    /// Number of pieces.
    pub fn num_pieces(&self) -> u32 {
        self.have.len() as u32
    }
    /// Pieces still missing.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        self.have
            .iter()
            .enumerate()
            .filter(|(_, h)| !**h)
            .map(|(i, _)| i as u32)
    }
    /// Add a received piece.
    pub fn add(&mut self, piece: u32, total_size: u64, data: &[u8]) -> Result<(), AssembleError> {
        if total_size != self.size as u64 {
            return Err(AssembleError::SizeMismatch {
                got: total_size,
                want: self.size as u64,
            });
        }
        let i = piece as usize;
        if i >= self.have.len() {
            return Err(AssembleError::PieceOutOfRange(piece));
        }
        let start = i * METADATA_PIECE;
        let want = (self.size - start).min(METADATA_PIECE);
        if data.len() != want {
            return Err(AssembleError::BadPieceLength {
                piece,
                got: data.len(),
                want,
            });
        }
        self.buf[start..start + want].copy_from_slice(data);
        self.have[i] = true;
        Ok(())
    }
    /// True when every piece has arrived.
    pub fn is_complete(&self) -> bool {
        self.have.iter().all(|h| *h)
    }
    /// The assembled bytes, if complete and hashing to `info_hash`.
    pub fn finish(self, info_hash: &crate::InfoHash) -> Result<Vec<u8>, AssembleError> {
        if crate::InfoHash::of(&self.buf) != *info_hash {
            return Err(AssembleError::HashMismatch);
        }
        Ok(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfoHash;

    #[test]
    fn metadata_messages_and_assembly() {
        let info = vec![b'x'; METADATA_PIECE + 100];
        let ih = InfoHash::of(&info);
        for m in [
            MetadataMsg::Request { piece: 3 },
            MetadataMsg::Reject { piece: 1 },
            MetadataMsg::Data {
                piece: 1,
                total_size: info.len() as u64,
                data: info[METADATA_PIECE..].to_vec(),
            },
        ] {
            assert_eq!(MetadataMsg::decode(&m.encode()).unwrap(), m);
        }
        let mut a = MetadataAssembler::new(info.len() as u64);
        assert_eq!(a.num_pieces(), 2);
        a.add(0, info.len() as u64, &info[..METADATA_PIECE])
            .unwrap();
        assert!(!a.is_complete());
        assert!(matches!(
            a.add(1, info.len() as u64, &info[..5]),
            Err(AssembleError::BadPieceLength { .. })
        ));
        assert!(matches!(
            a.add(2, info.len() as u64, &info[..100]),
            Err(AssembleError::PieceOutOfRange(2))
        ));
        assert!(matches!(
            a.add(1, 5, &info[..100]),
            Err(AssembleError::SizeMismatch { .. })
        ));
        a.add(1, info.len() as u64, &info[METADATA_PIECE..])
            .unwrap();
        assert!(a.is_complete());
        assert_eq!(a.finish(&ih).unwrap(), info);
        // A piece that does not hash to the info-hash.
        let mut a = MetadataAssembler::new(10);
        a.add(0, 10, b"0123456789").unwrap();
        assert_eq!(a.finish(&ih), Err(AssembleError::HashMismatch));
    }

    #[test]
    fn metadata_bad_input() {
        assert!(MetadataMsg::decode(b"d8:msg_typei9e5:piecei0ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei0ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei0e5:piecei-1ee").is_err());
        assert!(MetadataMsg::decode(b"d8:msg_typei1e5:piecei0ee").is_err());
        let mut big = b"d8:msg_typei1e5:piecei0e10:total_sizei99999ee".to_vec();
        big.extend(vec![0u8; METADATA_PIECE + 1]);
        assert_eq!(
            MetadataMsg::decode(&big),
            Err(ExtError::Range("piece data"))
        );
        assert!(MetadataMsg::decode(b"d8:msg_typei1e5:piecei0e10:total_sizei-5ee").is_err());
    }
}
