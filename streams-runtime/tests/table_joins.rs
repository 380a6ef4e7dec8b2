//! Table-table joins on the broker-free test driver: an update on either side re-joins its key
//! with the other table's current value; the joined table is materialized and queryable.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::state::QueryableStores;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

/// Users' names ⋈ users' scores → `name:score`.
fn topology(kind: Kind) -> Topology {
    let builder = StreamsBuilder::new();
    let names = builder.table_with("names", Consumed::new(Utf8, Utf8), Materialized::named("names"));
    let scores = builder.table_with("scores", Consumed::new(Utf8, Json), Materialized::named("scores"));
    let joined = match kind {
        Kind::Inner => names.join(&scores, |n: &String, s: &i64| format!("{n}:{s}"), "profiles"),
        Kind::Left => names.left_join(
            &scores,
            |n: &String, s: Option<&i64>| format!("{n}:{}", s.map_or("-".to_owned(), i64::to_string)),
            "profiles",
        ),
        Kind::Outer => names.outer_join(
            &scores,
            |n: Option<&String>, s: Option<&i64>| {
                format!(
                    "{}:{}",
                    n.map_or("-", String::as_str),
                    s.map_or("-".to_owned(), i64::to_string)
                )
            },
            "profiles",
        ),
    };
    joined.to_stream().to_with("profile-updates", Utf8, Utf8);
    builder.build().expect("topology")
}

/// (key, joined value) rows.
type Rows = Vec<(String, String)>;

/// The updates the joined table emitted and its final rows.
fn run(kind: Kind) -> (Rows, Rows) {
    let config = StreamsConfig::builder("profiles").build().expect("config");
    let driver = TestDriver::builder(topology(kind), config)
        .partitions(2)
        .build()
        .expect("driver");
    let names = driver
        .input_topic_with::<String, String>("names", Utf8, Utf8)
        .expect("input");
    let scores = driver
        .input_topic_with::<String, i64>("scores", Utf8, Json)
        .expect("input");
    names.pipe_at("u1".into(), "ann".into(), 1).expect("pipe");
    scores.pipe_at("u1".into(), 10, 2).expect("pipe");
    scores.pipe_at("u2".into(), 20, 3).expect("pipe");
    names.pipe_at("u3".into(), "cy".into(), 4).expect("pipe");
    scores.pipe_at("u1".into(), 11, 5).expect("pipe");
    let mut updates = driver
        .output_topic_with::<String, String>("profile-updates", Utf8, Utf8)
        .read_key_values()
        .expect("read");
    updates.sort();
    let rows = driver
        .key_value_entries("profiles")
        .expect("store")
        .into_iter()
        .collect();
    (updates, rows)
}

fn pairs(items: &[(&str, &str)]) -> Rows {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn inner_join_has_rows_for_keys_in_both_tables() {
    let (updates, rows) = run(Kind::Inner);
    assert_eq!(updates, pairs(&[("u1", "ann:10"), ("u1", "ann:11")]));
    assert_eq!(rows, pairs(&[("u1", "ann:11")]));
}

#[test]
fn left_join_has_rows_for_every_key_of_the_left_table() {
    let (updates, rows) = run(Kind::Left);
    assert_eq!(
        updates,
        pairs(&[("u1", "ann:-"), ("u1", "ann:10"), ("u1", "ann:11"), ("u3", "cy:-")])
    );
    assert_eq!(rows, pairs(&[("u1", "ann:11"), ("u3", "cy:-")]));
}

#[test]
fn outer_join_has_rows_for_every_key_of_either_table() {
    let (updates, rows) = run(Kind::Outer);
    assert_eq!(
        updates,
        pairs(&[
            ("u1", "ann:-"),
            ("u1", "ann:10"),
            ("u1", "ann:11"),
            ("u2", "-:20"),
            ("u3", "cy:-")
        ])
    );
    assert_eq!(rows, pairs(&[("u1", "ann:11"), ("u2", "-:20"), ("u3", "cy:-")]));
}

/// Pipes `ann`/10 for u1, then the tombstones; returns what the joined table emitted after the
/// first join (`None` = a delete, written as a tombstone) and its rows at the end.
fn deletes(kind: Kind, tombstones: &[&str]) -> (Vec<Option<String>>, Rows) {
    use kafka_streams::testing::TestRecord;
    let config = StreamsConfig::builder("profiles").build().expect("config");
    let driver = TestDriver::builder(topology(kind), config)
        .partitions(2)
        .build()
        .expect("driver");
    let names = driver
        .input_topic_with::<String, String>("names", Utf8, Utf8)
        .expect("input");
    let scores = driver
        .input_topic_with::<String, i64>("scores", Utf8, Json)
        .expect("input");
    names.pipe_at("u1".into(), "ann".into(), 1).expect("pipe");
    scores.pipe_at("u1".into(), 10, 2).expect("pipe");
    let out = driver.output_topic_with::<String, String>("profile-updates", Utf8, Utf8);
    out.read_records().expect("read");
    for (t, side) in tombstones.iter().enumerate() {
        let at = 3 + t as i64;
        match *side {
            "names" => names.pipe_record(TestRecord::tombstone("u1".to_owned()).at(at)),
            _ => scores.pipe_record(TestRecord::tombstone("u1".to_owned()).at(at)),
        }
        .expect("pipe");
    }
    let emitted = out.read_records().expect("read").into_iter().map(|r| r.value).collect();
    let rows = driver
        .key_value_entries("profiles")
        .expect("store")
        .into_iter()
        .collect();
    (emitted, rows)
}

#[test]
fn a_delete_on_either_side_updates_or_deletes_the_joined_row() {
    // Inner: the row goes, and a tombstone tells the output topic.
    assert_eq!(deletes(Kind::Inner, &["names"]), (vec![None], vec![]));
    assert_eq!(deletes(Kind::Inner, &["scores"]), (vec![None], vec![]));
    // Left: losing the right side keeps the row without it; losing the left side deletes it.
    assert_eq!(
        deletes(Kind::Left, &["scores", "names"]),
        (vec![Some("ann:-".to_owned()), None], vec![])
    );
    // Outer: the row stays while either side has the key.
    assert_eq!(
        deletes(Kind::Outer, &["names"]),
        (vec![Some("-:10".to_owned())], pairs(&[("u1", "-:10")]))
    );
    assert_eq!(
        deletes(Kind::Outer, &["names", "scores"]),
        (vec![Some("-:10".to_owned()), None], vec![])
    );
    // A tombstone for a key the table never had changes nothing.
    assert_eq!(deletes(Kind::Inner, &["names", "names"]), (vec![None], vec![]));
}
