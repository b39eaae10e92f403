//! Maps and sets keyed by numbers the kernel hands out (device and inode numbers), hashed
//! with a multiply per number instead of SipHash: a tree copy looks one up per file, and
//! SipHash cost more there than the rest of the per-file bookkeeping. Names are not keyed
//! here: a name is chosen by whoever made the tree, and SipHash keeps them from colliding.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by identities or other kernel numbers.
pub(crate) type NumMap<K, V> = HashMap<K, V, BuildHasherDefault<NumHasher>>;

/// A set of identities or other kernel numbers.
pub(crate) type NumSet<K> = HashSet<K, BuildHasherDefault<NumHasher>>;

/// Firefox's and rustc's "Fx" step: rotate, mix in the word, multiply by an odd constant
/// with well-spread bits.
#[derive(Default, Clone, Copy)]
pub(crate) struct NumHasher(u64);

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl NumHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for NumHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only for keys that are not plain numbers (none today); correct, not fast.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The table picks buckets by the low bits, which a multiply leaves the least mixed.
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_inodes_spread_over_buckets() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<NumHasher>::default();
        let mut buckets = [0u32; 64];
        for ino in 0..64_000u64 {
            buckets[(build.hash_one((2049u64, ino)) & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (500..1500).contains(&n)),
            "{buckets:?}"
        );
    }

    #[test]
    fn a_map_finds_what_it_holds() {
        let mut map: NumMap<(u64, u64), u32> = NumMap::default();
        for i in 0..1000 {
            map.insert((7, i * 4096), i as u32);
        }
        assert!((0..1000).all(|i| map[&(7, i * 4096)] == i as u32));
        assert!(!map.contains_key(&(8, 0)));
    }
}
