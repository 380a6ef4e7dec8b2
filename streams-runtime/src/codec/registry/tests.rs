//! The Schema Registry codecs against the mock registry, checked byte for byte against the
//! formats' specifications (Confluent's framing, Avro's and Protobuf's binary encodings), not
//! against our own decoder.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{MockSchemaRegistry, SchemaRegistry, SchemaRegistrySlot, SchemaType};
use crate::ErrorKind;
use crate::codec::{Avro, AvroSchema, Codec, HasJsonSchema, HasProtobufSchema, JsonSchema, Protobuf};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, AvroSchema)]
struct Order {
    id: String,
    amount: i64,
}

/// `Order` with a field added, defaulted as Avro's schema resolution fills it in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, AvroSchema)]
#[serde(rename = "Order")]
struct OrderV2 {
    id: String,
    amount: i64,
    #[avro(default = r#""EUR""#)]
    currency: String,
}

impl HasJsonSchema for Order {
    const SCHEMA: &'static str =
        r#"{"type":"object","properties":{"id":{"type":"string"},"amount":{"type":"integer"}}}"#;
}

fn connected() -> (Arc<MockSchemaRegistry>, SchemaRegistrySlot) {
    let mock = MockSchemaRegistry::new();
    let slot = SchemaRegistrySlot::connected(SchemaRegistry::new(Arc::clone(&mock) as _));
    (mock, slot)
}

fn order() -> Order {
    Order {
        id: "o1".into(),
        amount: 150,
    }
}

#[test]
fn avro_is_framed_avro_binary_under_the_topic_subject() {
    let (mock, slot) = connected();
    let codec = Avro::<Order>::topic_value(&slot, "orders");
    let bytes = codec.to_bytes(&order()).unwrap();
    // Magic 0, id 1 (big-endian), then Avro: "o1" as zig-zag length 2 (0x04) + bytes, then
    // 150 as the zig-zag varint of 300 (0xac 0x02).
    assert_eq!(bytes, [0, 0, 0, 0, 1, 0x04, b'o', b'1', 0xac, 0x02]);
    let (id, schema) = mock.latest("orders-value").expect("registered");
    assert_eq!((id, schema.schema_type), (1, SchemaType::Avro));
    assert!(schema.text.contains("\"name\":\"Order\""), "{}", schema.text);
    assert_eq!(codec.decode(&bytes).unwrap(), order());
}

#[test]
fn avro_reads_an_older_writer_schema_with_the_readers_defaults() {
    let (mock, slot) = connected();
    let old = Avro::<Order>::topic_value(&slot, "orders").to_bytes(&order()).unwrap();
    let new = Avro::<OrderV2>::topic_value(&slot, "orders");
    assert_eq!(
        new.decode(&old).unwrap(),
        OrderV2 {
            id: "o1".into(),
            amount: 150,
            currency: "EUR".into()
        }
    );
    // Writing with the new schema registers a second version.
    let written = new.to_bytes(&new.decode(&old).unwrap()).unwrap();
    assert_eq!(&written[..5], [0, 0, 0, 0, 2]);
    assert_eq!(mock.versions("orders-value"), [1, 2]);
}

#[test]
fn protobuf_is_framed_with_message_indexes() {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Order {
        #[prost(string, tag = "1")]
        id: String,
        #[prost(int64, tag = "2")]
        amount: i64,
    }
    impl HasProtobufSchema for Order {
        const SCHEMA: &'static str = "syntax = \"proto3\";\nmessage Order { string id = 1; int64 amount = 2; }\n";
    }
    let (mock, slot) = connected();
    let codec = Protobuf::<Order>::topic_value(&slot, "orders");
    let order = Order {
        id: "o1".into(),
        amount: 150,
    };
    let bytes = codec.to_bytes(&order).unwrap();
    // Header, message index [0] as one 0 byte, then field 1 (tag 0x0a, length 2) and field 2
    // (tag 0x10, varint 150 = 0x96 0x01).
    assert_eq!(bytes, [0, 0, 0, 0, 1, 0, 0x0a, 0x02, b'o', b'1', 0x10, 0x96, 0x01]);
    assert_eq!(mock.latest("orders-value").unwrap().1.schema_type, SchemaType::Protobuf);
    assert_eq!(codec.decode(&bytes).unwrap(), order);
    // Another message of the file is not this type.
    let mut other = bytes[..5].to_vec();
    other.extend_from_slice(&[2, 2]);
    other.extend_from_slice(&bytes[6..]);
    let err = codec.decode(&other).unwrap_err();
    assert!(err.to_string().contains("message [1]"), "{err}");
}

#[test]
fn json_schema_is_framed_json() {
    let (mock, slot) = connected();
    let codec = JsonSchema::<Order>::topic_key(&slot, "orders");
    let bytes = codec.to_bytes(&order()).unwrap();
    assert_eq!(&bytes[..5], [0, 0, 0, 0, 1]);
    assert_eq!(&bytes[5..], br#"{"id":"o1","amount":150}"#);
    assert_eq!(mock.latest("orders-key").unwrap().1.schema_type, SchemaType::Json);
    assert_eq!(codec.decode(&bytes).unwrap(), order());
    // A record of another format (an Avro schema's id) is not read as JSON.
    let avro = Avro::<Order>::topic_value(&slot, "orders").to_bytes(&order()).unwrap();
    let err = codec.decode(&avro).unwrap_err();
    assert!(err.to_string().contains("is a AVRO schema, not JSON"), "{err}");
    assert!(!err.is_retriable());
}

#[test]
fn an_outage_is_retriable_and_a_bad_record_is_not() {
    let (mock, slot) = connected();
    let codec = Avro::<Order>::topic_value(&slot, "orders");
    mock.set_unavailable(true);
    let err = codec.to_bytes(&order()).unwrap_err();
    assert!(err.is_retriable(), "{err}");
    assert_eq!(err.error_kind(), ErrorKind::Unavailable);
    mock.set_unavailable(false);
    let bytes = codec.to_bytes(&order()).unwrap();

    // A new reader must fetch the writer schema: during an outage it cannot, and says so.
    let reader = Avro::<Order>::topic_value(&slot, "orders");
    mock.set_unavailable(true);
    assert!(reader.decode(&bytes).unwrap_err().is_retriable());
    mock.set_unavailable(false);
    assert_eq!(reader.decode(&bytes).unwrap(), order());
    // Cached now: an outage no longer matters for this schema.
    mock.set_unavailable(true);
    assert_eq!(reader.decode(&bytes).unwrap(), order());
    mock.set_unavailable(false);

    for bad in [&b"{\"id\":1}"[..], &[0, 0, 0, 0, 9, 1][..], &[0, 0, 0, 0, 1, 0xff][..]] {
        let err = reader.decode(bad).unwrap_err();
        assert!(!err.is_retriable(), "{err}");
        assert_eq!(err.error_kind(), ErrorKind::Codec);
    }
}

#[test]
fn an_unconnected_codec_says_what_to_configure() {
    let codec = Avro::<Order>::topic_value(&SchemaRegistrySlot::default(), "orders");
    let err = codec.to_bytes(&order()).unwrap_err().to_string();
    assert!(err.contains("schema.registry.url"), "{err}");
}

#[test]
fn mock_scopes_are_shared_by_url() {
    let config = crate::config::StreamsConfig::builder("app")
        .schema_registry_url("mock://codec-tests")
        .build()
        .unwrap();
    let registry = SchemaRegistry::connect(config.schema_registry()).unwrap().unwrap();
    let slot = SchemaRegistrySlot::connected(registry);
    Avro::<Order>::topic_value(&slot, "scoped").to_bytes(&order()).unwrap();
    assert_eq!(MockSchemaRegistry::scope("codec-tests").subjects(), ["scoped-value"]);
}
