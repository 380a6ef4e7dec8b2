//! The byte pieces store keys are laid out from, so that byte order is the order scans need:
//! length-prefixed keys (a key's entries stay contiguous) and sign-flipped big-endian times
//! (byte order equals numeric order, negative times included).

/// `[key length: u32 BE][key]`.
pub(crate) fn push_key(out: &mut Vec<u8>, key: &[u8]) {
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
}

/// [`push_key`] for a key that `encode` writes straight into `out` (no buffer of its own):
/// the length is filled in afterwards. Returns where the key's bytes start in `out`.
pub(crate) fn push_key_with<E>(
    out: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<usize, E> {
    let length_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let start = out.len();
    encode(out)?;
    let len = (out.len() - start) as u32;
    out[length_at..start].copy_from_slice(&len.to_be_bytes());
    Ok(start)
}

/// The key of a `[length][key]…` prefix and what follows it.
pub(crate) fn split_key(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    Some((bytes.get(4..4 + len)?, bytes.get(4 + len..)?))
}

/// A time as 8 bytes whose order is the times' order.
pub(crate) fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// The time of [`time_bytes`]; `None` unless `bytes` is 8 bytes long.
pub(crate) fn time_from(bytes: &[u8]) -> Option<i64> {
    let raw: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_by_value_and_keys_round_trip() {
        let times = [i64::MIN, -5, 0, 7, i64::MAX];
        let bytes: Vec<[u8; 8]> = times.iter().map(|&t| time_bytes(t)).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]));
        assert!(times.iter().all(|&t| time_from(&time_bytes(t)) == Some(t)));
        let mut out = Vec::new();
        push_key(&mut out, b"abc");
        out.push(9);
        assert_eq!(split_key(&out), Some((&b"abc"[..], &[9_u8][..])));
        assert_eq!(time_from(&[1, 2]), None);
    }

    #[test]
    fn a_key_written_in_place_is_laid_out_as_a_pushed_one() {
        let mut pushed = vec![7];
        push_key(&mut pushed, b"a key");
        let mut written = vec![7];
        let start = push_key_with(&mut written, |out| {
            out.extend_from_slice(b"a key");
            Ok::<(), ()>(())
        });
        assert_eq!(written, pushed);
        assert_eq!(start, Ok(5));
        assert_eq!(push_key_with(&mut Vec::new(), |_| Err("refused")), Err("refused"));
    }
}
