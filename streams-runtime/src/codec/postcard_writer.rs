//! postcard's wire format, written straight into a `Vec<u8>`.
//!
//! [`Binary`](super::Binary) encodes every store key and value and every changelog and
//! repartition record. postcard's own serializer writes through a generic output "flavor" (each
//! integer through a buffer of its own, the `Vec` moved in and out), which cost a short string
//! key or a count about a hundred instructions; this writer pushes the same bytes into the `Vec`
//! directly. Decoding stays with postcard, and the tests check that both encode every kind of
//! value serde has byte for byte alike. The format:
//! <https://postcard.jamesmunns.com/wire-format> (postcard 1.x, stable across its releases).

use std::fmt;

use serde::ser::{self, Serialize};

/// Appends the postcard encoding of `value` to `out`; on an error `out` is left as it was.
pub(crate) fn write<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    let result = value.serialize(&mut Writer { out });
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Why a value could not be encoded.
#[derive(Debug)]
pub(crate) enum Error {
    /// postcard prefixes a sequence or map with its length, which this one did not give.
    UnknownLength,
    /// The value's `Serialize` or `Display` failed.
    Custom(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownLength => f.write_str("a sequence or map without a known length cannot be encoded"),
            Self::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Custom(message.to_string())
    }
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// LEB128: seven bits per byte, least significant first, the top bit set on all but the last.
    #[inline]
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.out.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    fn varint_u128(&mut self, mut value: u128) {
        while value >= 0x80 {
            self.out.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    #[inline]
    fn length(&mut self, len: usize) {
        self.varint(len as u64);
    }

    /// A variant with parts: its index, then the parts.
    #[inline]
    fn variant(&mut self, index: u32) -> Result<&mut Self, Error> {
        self.varint(u64::from(index));
        Ok(self)
    }

    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        self.length(bytes.len());
        self.out.extend_from_slice(bytes);
    }
}

/// Zigzag: small magnitudes of either sign become small unsigned numbers (0, -1, 1, -2 → 0, 1, 2, 3).
#[inline]
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

impl<'w> ser::Serializer for &mut Writer<'w> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push(u8::from(v));
        Ok(())
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.out.push(v as u8);
        Ok(())
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.varint(zigzag(i64::from(v)));
        Ok(())
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.varint(zigzag(i64::from(v)));
        Ok(())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.varint(zigzag(v));
        Ok(())
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.varint_u128(((v << 1) ^ (v >> 127)) as u128);
        Ok(())
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.out.push(v);
        Ok(())
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.varint(u64::from(v));
        Ok(())
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.varint(u64::from(v));
        Ok(())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.varint(v);
        Ok(())
    }

    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.varint_u128(v);
        Ok(())
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.bytes(v.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.bytes(v.as_bytes());
        Ok(())
    }

    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.bytes(v);
        Ok(())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        self.out.push(0);
        Ok(())
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.push(1);
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Ok(())
    }

    #[inline]
    fn serialize_unit_variant(self, _name: &'static str, index: u32, _variant: &'static str) -> Result<(), Error> {
        self.varint(u64::from(index));
        Ok(())
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.varint(u64::from(index));
        value.serialize(self)
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, Error> {
        self.length(len.ok_or(Error::UnknownLength)?);
        Ok(self)
    }

    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Self, Error> {
        Ok(self)
    }

    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, Error> {
        Ok(self)
    }

    #[inline]
    fn serialize_tuple_variant(self, _: &'static str, index: u32, _: &'static str, _: usize) -> Result<Self, Error> {
        self.variant(index)
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self, Error> {
        self.length(len.ok_or(Error::UnknownLength)?);
        Ok(self)
    }

    #[inline]
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, Error> {
        Ok(self)
    }

    #[inline]
    fn serialize_struct_variant(self, _: &'static str, index: u32, _: &'static str, _: usize) -> Result<Self, Error> {
        self.variant(index)
    }

    #[inline]
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.bytes(value.to_string().as_bytes());
        Ok(())
    }
}

/// Every compound is its parts in order: what postcard prefixes (a length, a variant index)
/// was written when it began.
macro_rules! parts {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl<'w> ser::$trait for &mut Writer<'w> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

parts!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl<'w> ser::SerializeMap for &mut Writer<'w> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// A struct is its fields in order, without their names.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {$(
        impl<'w> ser::$trait for &mut Writer<'w> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, value: &T) -> Result<(), Error> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Serialize, Serializer};

    use super::*;

    /// Ours, appended after a byte already there, equals postcard's own.
    fn same<T: Serialize + fmt::Debug>(value: T) {
        let mut ours = vec![0xAA];
        write(&value, &mut ours).expect("ours");
        let theirs = postcard::to_allocvec(&value).expect("postcard");
        assert_eq!(ours[1..], theirs[..], "{value:?}");
    }

    #[derive(Serialize, Debug)]
    struct Unit;

    #[derive(Serialize, Debug)]
    struct Newtype(i32);

    #[derive(Serialize, Debug)]
    struct Pair(String, Option<u8>);

    #[derive(Serialize, Debug)]
    struct Nested {
        name: String,
        at: i64,
        tags: Vec<u16>,
        scores: BTreeMap<String, f64>,
        inner: Option<Box<Nested>>,
    }

    #[derive(Serialize, Debug)]
    enum Shape {
        Empty,
        Circle(f32),
        Rect(u32, u32),
        Named { label: char, sides: u128 },
    }

    /// A value serialized through `Display` (`collect_str`).
    #[derive(Debug)]
    struct Shown(&'static str, i32);

    impl Serialize for Shown {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(&format_args!("{}={}", self.0, self.1))
        }
    }

    /// Bytes as bytes (`serialize_bytes`), not as a sequence of numbers.
    #[derive(Debug)]
    struct Raw(&'static [u8]);

    impl Serialize for Raw {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    #[test]
    fn every_kind_of_value_is_encoded_as_postcard_encodes_it() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            same(v);
            same(v as u32);
            same(v as u16);
            same(v as u8);
            same(v as usize);
            same(u128::from(v) << 64 | u128::from(v));
        }
        for v in [0i64, 1, -1, 63, -64, 64, -65, i64::from(i32::MIN), i64::MAX, i64::MIN] {
            same(v);
            same(v as i32);
            same(v as i16);
            same(v as i8);
            same(i128::from(v) * i128::from(i64::MAX));
        }
        for v in [i16::MIN, i16::MAX] {
            same(v);
        }
        for v in [i32::MIN, i32::MAX] {
            same(v);
        }
        same(i128::MIN);
        same(i128::MAX);
        same(u128::MAX);
        same((true, false, 'a', 'é', '😀', 1.5f32, -0.0f64, f64::NAN, f32::INFINITY));
        same(String::new());
        same("x".repeat(127));
        same("ü".repeat(200));
        same(vec![0u8, 1, 255]);
        same(Vec::<String>::new());
        same(vec![Some(1i64), None, Some(-3)]);
        same((
            (),
            Unit,
            Newtype(-7),
            Pair("p".into(), Some(9)),
            Pair(String::new(), None),
        ));
        same([
            Shape::Empty,
            Shape::Circle(2.5),
            Shape::Rect(3, 400),
            Shape::Named {
                label: 'z',
                sides: 1 << 100,
            },
        ]);
        same(BTreeMap::from([
            ("a".to_owned(), vec![1u32]),
            ("bb".to_owned(), vec![]),
        ]));
        same(Shown("key", -42));
        same((Raw(b""), Raw(b"\x00\xff"), Raw(&[7; 130])));
        same(Nested {
            name: "outer".into(),
            at: -1_700_000_000_000,
            tags: vec![1, 200, 60_000],
            scores: BTreeMap::from([("x".to_owned(), 0.25)]),
            inner: Some(Box::new(Nested {
                name: "inner".into(),
                at: 5,
                tags: vec![],
                scores: BTreeMap::new(),
                inner: None,
            })),
        });
    }

    /// A sequence without a length is refused, as postcard refuses it, and what was in the
    /// buffer before stays as it was.
    #[test]
    fn a_sequence_without_a_length_is_an_error_that_leaves_the_buffer_as_it_was() {
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = serializer.serialize_seq(None)?;
                seq.serialize_element(&1u8)?;
                seq.end()
            }
        }
        assert!(postcard::to_allocvec(&("ab", Unsized)).is_err());
        let mut out = vec![7];
        let error = write(&("ab", Unsized), &mut out).unwrap_err();
        assert!(matches!(error, Error::UnknownLength), "{error}");
        assert_eq!(out, [7]);
    }
}
