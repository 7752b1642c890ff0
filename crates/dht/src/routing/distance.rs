//! XOR-distance helpers: bits of an id, and a compact key that orders and xors ids
//! quickly on the hot path of `closest`.

use swarmlab_krpc::Id;

/// Copies the first `bits` bits of `from` into `into`.
pub(super) fn copy_prefix(into: &mut Id, from: &Id, bits: usize) {
    let bits = bits.min(160);
    let full = bits / 8;
    into.0[..full].copy_from_slice(&from.0[..full]);
    let rem = bits % 8;
    if rem > 0 {
        let mask = 0xffu8 << (8 - rem);
        into.0[full] = (from.0[full] & mask) | (into.0[full] & !mask);
    }
}

pub(super) fn flip_bit(id: &mut Id, bit: usize) {
    if bit < 160 {
        id.0[bit / 8] ^= 0x80 >> (bit % 8);
    }
}

/// Bit `i` of `id` (0 = most significant); false past the end.
pub(super) fn bit(id: &Id, i: usize) -> bool {
    i < 160 && (id.0[i / 8] >> (7 - (i % 8))) & 1 == 1
}

/// An id as two big-endian integers: orders exactly like the bytes, but
/// compares and xors in a few instructions (hot path of `closest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct DistKey(pub(super) u128, pub(super) u32);

impl DistKey {
    pub(super) fn of(id: &Id) -> Self {
        let mut hi = [0u8; 16];
        hi.copy_from_slice(&id.0[..16]);
        let mut lo = [0u8; 4];
        lo.copy_from_slice(&id.0[16..]);
        DistKey(u128::from_be_bytes(hi), u32::from_be_bytes(lo))
    }

    pub(super) fn xor(self, o: &DistKey) -> Self {
        DistKey(self.0 ^ o.0, self.1 ^ o.1)
    }
}

/// Keeps the `m` entries with the smallest distance (unordered).
pub(super) fn keep_closest<T>(v: &mut Vec<(DistKey, T)>, m: usize) {
    if v.len() > m {
        if m > 0 {
            v.select_nth_unstable_by_key(m - 1, |x| x.0);
        }
        v.truncate(m);
    }
}
