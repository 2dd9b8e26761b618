//! Finding wallet ids that appear more than once in a list, in bounded
//! memory: a filter of 8 bytes per id (at most 64 MiB) and a table of the
//! ids it flags (at most 1,048,576 of them, about 32 MiB), where holding
//! every id would take 36 bytes each.
//!
//! A repeated id would derive the same share twice (and, in the vendor's
//! JSON layout, repeat an object key), so the check pass refuses repeats
//! like any other bad line. Holding every id to compare would take 16 bytes
//! per id; instead the check pass sets bits in a fixed-size, cache-blocked
//! Bloom filter ([`SeenFilter`]). A filter can only say "maybe seen before",
//! so lines it flags are candidates, and only when there are any is the list
//! read once more ([`confirm`]) to find, exactly, which candidates repeat an
//! earlier line and which line that was. Exactness never depends on the
//! filter; its size only decides how often that extra read happens (for a
//! million random ids with no repeats, 20 trial runs flagged no line).

use std::collections::HashMap;

/// Bits in one filter block: a 64-byte cache line.
const BLOCK_BITS: u64 = 512;
/// Bits set per id, all in one block.
const BITS_PER_ID: usize = 8;
/// Filter size bounds, in bytes.
const MIN_BYTES: usize = 64 << 10;
const MAX_BYTES: usize = 64 << 20;
/// Filter bytes per expected id.
const BYTES_PER_ID: usize = 8;
/// Different flagged ids kept at most (about 32 MiB); a list that flags
/// more is refused as too long to check.
pub const MAX_CANDIDATES: usize = 1 << 20;

/// A checked wallet id: its 36 canonical bytes. Canonical ids are equal
/// exactly when their text is, so the text itself is the key.
pub type WalletKey = [u8; 36];

/// A wallet key from a line already checked to be a canonical id.
pub fn key_of(line: &[u8]) -> WalletKey {
    let mut key = [0u8; 36];
    key.copy_from_slice(&line[..36]);
    key
}

/// The 64-bit finaliser of MurmurHash3: spreads sequential ids as well as
/// random ones.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A blocked Bloom filter over wallet ids.
pub struct SeenFilter {
    blocks: Vec<[u64; 8]>,
}

impl SeenFilter {
    /// A filter sized for about `expected` ids.
    pub fn with_expected(expected: u64) -> SeenFilter {
        let want = usize::try_from(expected)
            .unwrap_or(usize::MAX)
            .saturating_mul(BYTES_PER_ID)
            .clamp(MIN_BYTES, MAX_BYTES)
            .next_power_of_two();
        SeenFilter {
            blocks: vec![[0u64; 8]; want / 64],
        }
    }

    /// Where `id` lives: its block and its eight bit positions there.
    fn spot(&self, id: &WalletKey) -> (usize, [u16; BITS_PER_ID]) {
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&id[at..at + 8]);
            u64::from_le_bytes(w)
        };
        // Five overlapping words cover all 36 bytes.
        let a = mix(word(0) ^ mix(word(8) ^ mix(word(16) ^ mix(word(24) ^ mix(word(28))))));
        let b = mix(a ^ 0x9e37_79b9_7f4a_7c15);
        // blocks.len() is a power of two; its low bits of `a` choose the
        // block, and eight independent 9-bit pieces the bits: seven from
        // `b`, the last from the top of `a`.
        let block = (a as usize) & (self.blocks.len() - 1);
        let mut bits = [0u16; BITS_PER_ID];
        for (i, bit) in bits.iter_mut().enumerate() {
            let v = if i < 7 { b >> (i * 9) } else { a >> 55 };
            *bit = (v % BLOCK_BITS) as u16;
        }
        (block, bits)
    }

    /// Sets a spot's bits; true if they were all set already.
    fn set(&mut self, (block, bits): &(usize, [u16; BITS_PER_ID])) -> bool {
        let block = &mut self.blocks[*block];
        let mut seen = true;
        for &bit in bits {
            let (word, mask) = (usize::from(bit / 64), 1u64 << (bit % 64));
            seen &= block[word] & mask != 0;
            block[word] |= mask;
        }
        seen
    }

    /// Records `id`; true if it may have been recorded before.
    pub fn insert(&mut self, id: &WalletKey) -> bool {
        let spot = self.spot(id);
        self.set(&spot)
    }

    /// Records each of `ids` in order, calling `flagged` with those that may
    /// have been recorded before (by an earlier id or by one in `ids`).
    ///
    /// A million ids land on random cache lines of a filter far larger than
    /// the core's cache, so one at a time each insert waits for memory. In
    /// groups, the blocks of a whole group are loaded first — independent
    /// loads that the CPU overlaps — and then updated.
    pub fn insert_all(&mut self, ids: &[WalletKey], mut flagged: impl FnMut(&WalletKey)) {
        const GROUP: usize = 16;
        let mut spots = [(0usize, [0u16; BITS_PER_ID]); GROUP];
        for group in ids.chunks(GROUP) {
            let mut touched = 0u64;
            for (spot, id) in spots.iter_mut().zip(group) {
                *spot = self.spot(id);
                touched ^= self.blocks[spot.0][0];
            }
            std::hint::black_box(touched);
            for (spot, id) in spots.iter().zip(group) {
                if self.set(spot) {
                    flagged(id);
                }
            }
        }
    }
}

/// A wallet key as its 128 bits (the 32 hex digits): half the memory of
/// the text, for the candidate table.
fn bits(id: &WalletKey) -> u128 {
    id.iter().filter(|&&c| c != b'-').fold(0u128, |acc, &c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            _ => (c | 0x20).wrapping_sub(b'a').wrapping_add(10),
        };
        (acc << 4) | u128::from(digit & 0xf)
    })
}

/// Ids the filter flagged, to be confirmed: each with the first line it
/// appears on in the confirming read (0 until then). About 32 bytes an id,
/// at most [`MAX_CANDIDATES`] ids.
pub struct Candidates {
    ids: HashMap<u128, u64>,
    limit: usize,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates::with_limit(MAX_CANDIDATES)
    }
}

impl Candidates {
    /// Candidates that refuse to hold more than `limit` different ids.
    pub fn with_limit(limit: usize) -> Candidates {
        Candidates {
            ids: HashMap::new(),
            limit,
        }
    }

    /// Notes a flagged id; false if it is new and there are too many to keep.
    pub fn add(&mut self, id: &WalletKey) -> bool {
        let id = bits(id);
        if self.ids.contains_key(&id) {
            return true;
        }
        if self.ids.len() >= self.limit {
            return false;
        }
        self.ids.insert(id, 0);
        true
    }

    /// True when no id was flagged.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Called for every valid line, in order, on a second read: returns the
    /// earlier line an id repeats, if it does.
    pub fn confirm(&mut self, line: u64, id: &WalletKey) -> Option<u64> {
        match self.ids.get_mut(&bits(id)) {
            Some(0) => {
                self.ids.insert(bits(id), line);
                None
            }
            Some(first) => Some(*first),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canonical id from a number (sequential numbers give ids that share
    /// most of their text: the hard case for a weak hash).
    fn id(n: u64) -> WalletKey {
        key_of(crate::drkit::kit::uuid_text(u128::from(n)).as_bytes())
    }

    #[test]
    fn candidate_keys_are_the_ids_128_bits() {
        assert_eq!(
            bits(&key_of(b"2d33e419-4c84-44b1-9d9a-3598f96642b0")),
            0x2d33e4194c8444b19d9a3598f96642b0
        );
        assert_eq!(
            bits(&key_of(b"ffffffff-ffff-ffff-ffff-ffffffffffff")),
            u128::MAX
        );
    }

    #[test]
    fn the_filter_never_forgets_and_rarely_imagines() {
        let n = 200_000u64;
        let mut f = SeenFilter::with_expected(n);
        let flagged = (0..n).filter(|&i| f.insert(&id(i))).count();
        assert!(flagged < 20, "{flagged} false candidates among {n} new ids");
        assert!((0..n).all(|i| f.insert(&id(i))), "every id is remembered");
        // Ids that differ in any one of the 32 digits are told apart.
        let mut f = SeenFilter::with_expected(64);
        let base = id(0);
        f.insert(&base);
        for pos in (0..36).filter(|p| ![8, 13, 18, 23].contains(p)) {
            let mut other = base;
            other[pos] = b'7';
            assert!(!f.insert(&other), "digit {pos}");
        }
    }

    #[test]
    fn candidates_confirm_only_real_repeats_with_the_first_line() {
        let mut c = Candidates::default();
        assert!(c.is_empty());
        c.add(&id(7));
        c.add(&id(9));
        // Second read: 7 on lines 2 and 5, 9 only on line 4 (a false alarm).
        let got: Vec<Option<u64>> = [(1, 1), (2, 7), (3, 3), (4, 9), (5, 7), (6, 7)]
            .iter()
            .map(|&(line, n)| c.confirm(line, &id(n)))
            .collect();
        assert_eq!(got, [None, None, None, None, Some(2), Some(2)]);

        // Past its limit, a candidate table says so instead of growing; an
        // id it already holds is no new entry.
        let mut c = Candidates::with_limit(2);
        assert!(c.add(&id(1)) && c.add(&id(2)) && c.add(&id(1)));
        assert!(!c.add(&id(3)));
    }
}
