//! Confluent's wire format: a zero magic byte, the schema id as a 4-byte big-endian integer,
//! then the body. Protobuf bodies start with the message indexes (which message of the
//! `.proto` file): zig-zag varints, a count then the indexes, with `[0]` written as one 0 byte.

/// The first byte of every framed record.
pub(crate) const MAGIC: u8 = 0;

/// Appends the header of a record written with schema `id`.
pub(crate) fn write_header(id: u32, out: &mut Vec<u8>) {
    out.push(MAGIC);
    out.extend_from_slice(&id.to_be_bytes());
}

/// The schema id of a framed record and its body.
pub(crate) fn read_header(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    match bytes {
        [MAGIC, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        [] => Err("the record is empty, not in the Schema Registry wire format".to_owned()),
        [first, ..] if *first != MAGIC => Err(format!(
            "the record starts with byte {first:#04x}, not the Schema Registry magic byte 0 (was it written \
             without the registry?)"
        )),
        _ => Err(format!(
            "the record has {} bytes, fewer than the 5-byte Schema Registry header",
            bytes.len()
        )),
    }
}

/// Appends Protobuf message indexes.
pub(crate) fn write_message_indexes(indexes: &[i32], out: &mut Vec<u8>) {
    if indexes == [0] {
        out.push(0);
        return;
    }
    write_zigzag(i64::try_from(indexes.len()).unwrap_or(i64::MAX), out);
    for &index in indexes {
        write_zigzag(i64::from(index), out);
    }
}

/// The message indexes at the start of a Protobuf body, and the message bytes after them.
pub(crate) fn read_message_indexes(body: &[u8]) -> Result<(Vec<i32>, &[u8]), String> {
    let (count, mut rest) = read_zigzag(body)?;
    if count == 0 {
        return Ok((vec![0], rest));
    }
    let count = usize::try_from(count).map_err(|_| format!("negative message-index count {count}"))?;
    if count > rest.len() {
        return Err(format!("{count} message indexes announced in {} bytes", rest.len()));
    }
    let mut indexes = Vec::with_capacity(count);
    for _ in 0..count {
        let (index, after) = read_zigzag(rest)?;
        indexes.push(i32::try_from(index).map_err(|_| format!("message index {index} out of range"))?);
        rest = after;
    }
    Ok((indexes, rest))
}

fn write_zigzag(value: i64, out: &mut Vec<u8>) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_zigzag(bytes: &[u8]) -> Result<(i64, &[u8]), String> {
    let mut n: u64 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let value = ((n >> 1) as i64) ^ -((n & 1) as i64);
            return Ok((value, &bytes[i + 1..]));
        }
    }
    Err("a message index is not a complete varint".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_magic_then_big_endian_id() {
        let mut out = Vec::new();
        write_header(0x0102_0304, &mut out);
        out.extend_from_slice(b"body");
        assert_eq!(out, [0, 1, 2, 3, 4, b'b', b'o', b'd', b'y']);
        assert_eq!(read_header(&out).unwrap(), (0x0102_0304, &b"body"[..]));
    }

    #[test]
    fn records_without_the_header_are_named_errors() {
        assert!(read_header(b"").unwrap_err().contains("empty"));
        assert!(read_header(b"{\"a\":1}").unwrap_err().contains("0x7b"));
        assert!(read_header(&[0, 0, 1]).unwrap_err().contains("3 bytes"));
    }

    #[test]
    fn message_indexes_follow_confluent() {
        // The first message: one 0 byte. Others: zig-zag count then indexes (2 → 4, 1 → 2).
        let mut first = Vec::new();
        write_message_indexes(&[0], &mut first);
        assert_eq!(first, [0]);
        let mut nested = Vec::new();
        write_message_indexes(&[1, 0], &mut nested);
        assert_eq!(nested, [4, 2, 0]);
        nested.push(0x08);
        assert_eq!(read_message_indexes(&nested).unwrap(), (vec![1, 0], &[0x08][..]));
        assert_eq!(read_message_indexes(&[0, 0x08]).unwrap(), (vec![0], &[0x08][..]));
        assert!(read_message_indexes(&[0x80]).is_err());
        assert!(read_message_indexes(&[40]).is_err());
    }
}
