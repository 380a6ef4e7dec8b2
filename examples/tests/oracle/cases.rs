//! Seeded random inputs: few keys (so they collide), event time mostly moving forward with
//! out-of-order and late records, tombstones, and bursts on one input (one side of a join).

/// How far back out-of-order records go by default: past every window's grace, so late records
/// are dropped on both sides.
pub(crate) const DISORDER_MS: i64 = 12_000;

/// A null value (a tombstone) in the oracle's files.
pub(crate) const NULL: &str = "~";

/// An input topic and how its records are made.
pub(crate) struct Input {
    pub(crate) topic: &'static str,
    /// Keys are `k0` .. `k{keys - 1}`.
    pub(crate) keys: u64,
    /// A record's value, unless it is a tombstone.
    pub(crate) value: fn(&mut Rng) -> String,
    /// The chance that a record is a tombstone.
    pub(crate) tombstones: f64,
}

pub(crate) struct Record {
    pub(crate) topic: &'static str,
    pub(crate) key: String,
    pub(crate) value: Option<String>,
    pub(crate) timestamp: i64,
}

pub(crate) struct Case {
    pub(crate) seed: u64,
    pub(crate) records: Vec<Record>,
}

/// SplitMix64: small, seedable, and the same on every platform.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// 10 to 49 records over the inputs. Event time starts at `origin_ms` and advances by up to
/// 2.5 s per record; one record in six goes back up to `disorder_ms` (out of order, or late for
/// windows with a shorter grace; never before 0); one pick in seven is a burst of 2–6 records on
/// the same input. A tombstone deletes a key its topic has.
pub(crate) fn generate(seed: u64, inputs: &[Input], disorder_ms: i64, origin_ms: i64) -> Case {
    let mut rng = Rng::new(seed);
    let count = 10 + rng.below(40) as usize;
    let mut records = Vec::with_capacity(count);
    let mut time: i64 = origin_ms;
    let mut live = std::collections::HashSet::new();
    while records.len() < count {
        let input = &inputs[rng.below(inputs.len() as u64) as usize];
        let burst = if rng.chance(1.0 / 7.0) { 2 + rng.below(5) } else { 1 };
        for _ in 0..burst {
            let timestamp = if rng.chance(1.0 / 6.0) {
                (time - rng.below(disorder_ms as u64 + 1) as i64).max(0)
            } else {
                time += rng.below(2_500) as i64;
                time
            };
            let key = format!("k{}", rng.below(input.keys));
            // Tombstones delete present keys only: Kafka Streams passes on a delete of a key a
            // table never had (a redundant tombstone or update downstream), we drop it (README,
            // "Semantics").
            let present = live.contains(&(input.topic, key.clone()));
            let value = if present && rng.chance(input.tombstones) {
                live.remove(&(input.topic, key.clone()));
                None
            } else {
                live.insert((input.topic, key.clone()));
                Some((input.value)(&mut rng))
            };
            records.push(Record {
                topic: input.topic,
                key,
                value,
                timestamp,
            });
        }
    }
    Case { seed, records }
}

/// A one-letter value, `a` .. `e` (concatenations stay readable).
pub(crate) fn letter(rng: &mut Rng) -> String {
    char::from(b'a' + rng.below(5) as u8).to_string()
}
