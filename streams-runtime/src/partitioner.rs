//! Java-compatible key → partition mapping.
//!
//! Kafka's Java producer partitions keyed records with `toPositive(murmur2(key)) % partitions`.
//! The runtime uses the same function for everything it produces and for routing interactive
//! queries, so a key lands where a Java producer would have put it.

/// Kafka's murmur2 hash of `data` (seed `0x9747b28c`), as `org.apache.kafka.common.utils.Utils`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition a Java producer (and librdkafka's `murmur2_random`) picks for `key`.
///
/// # Panics
/// Never for `partitions > 0`; callers get the partition count from topic metadata.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    debug_assert!(partitions > 0, "a topic always has at least one partition");
    // Java's `toPositive` masks the sign bit rather than taking the absolute value.
    ((murmur2(key) as u32) & 0x7fff_ffff) % partitions.max(1)
}

/// The librdkafka `partitioner` setting that matches [`partition_for_key`].
pub const RDKAFKA_PARTITIONER: &str = "murmur2_random";

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn matches_java_murmur2() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input),
                expected,
                "murmur2({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn partitions_are_in_range_and_stable() {
        for key in ["user-1", "user-2", "", "ünïcödé"] {
            let p = partition_for_key(key.as_bytes(), 3);
            assert!(p < 3);
            assert_eq!(p, partition_for_key(key.as_bytes(), 3));
        }
    }
}
