//! Typed store access behind an untyped (JSON over HTTP) interface: each store registers an
//! adapter when the topology is built, where its key and value types are known.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::codec::Codec;
use crate::partitioner;
use crate::state::{KeyValueStore, SessionStore, SharedStore, WindowStore};
use crate::window::{TimeWindow, Windowed};

/// A bad request, said in terms of the store's types.
pub(crate) type QueryError = String;

/// How a store is laid out, which decides its queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueryLayout {
    KeyValue,
    /// Time windows of this size (ms).
    Window(i64),
    /// Session windows (their ends vary).
    Session,
}

impl QueryLayout {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::KeyValue => "key_value",
            Self::Window(_) => "window",
            Self::Session => "session",
        }
    }
}

/// One store's queries over JSON.
pub(crate) trait StoreQuery: Send + Sync {
    fn layout(&self) -> QueryLayout;

    /// The partition holding `key` (given as text) among `partitions`.
    fn partition(&self, key: &str, partitions: i32) -> Result<i32, QueryError>;

    /// The value of `key` (key-value stores) as JSON.
    fn get(&self, store: &SharedStore, key: &str) -> crate::Result<Result<Option<Value>, QueryError>>;

    /// The windows (or sessions) of `key` starting in `[from_ms, to_ms]`, as
    /// `{"window_start", "window_end", "value"}` objects.
    fn fetch(
        &self,
        store: &SharedStore,
        key: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> crate::Result<Result<Vec<Value>, QueryError>>;

    /// Calls `visit` with every entry as `(key text, key JSON, value JSON)` (window stores add
    /// the window to the key), reading the store a chunk at a time.
    fn for_each_entry(&self, store: &SharedStore, visit: &mut dyn FnMut(String, Value, Value)) -> crate::Result<()>;
}

/// The text form of a key: a JSON string's contents, or the JSON of anything else.
pub(crate) fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a key given as text: JSON (`42`, `{"id":1}`, `"quoted"`) or, failing that, a string.
pub(crate) fn parse_key<K: DeserializeOwned>(text: &str) -> Result<K, QueryError> {
    serde_json::from_str::<K>(text)
        .or_else(|_| serde_json::from_value::<K>(Value::String(text.to_owned())))
        .map_err(|e| {
            format!(
                "`{text}` is not a valid key of type `{}`: {e}",
                std::any::type_name::<K>()
            )
        })
}

pub(crate) struct TypedStoreQuery<K, V> {
    /// How keys are encoded on the topic the store's task reads (partitioning).
    partition_codec: Arc<dyn Codec<K>>,
    layout: QueryLayout,
    _value: PhantomData<fn() -> V>,
}

impl<K, V> TypedStoreQuery<K, V> {
    pub(crate) fn new(partition_codec: Arc<dyn Codec<K>>, layout: QueryLayout) -> Self {
        Self {
            partition_codec,
            layout,
            _value: PhantomData,
        }
    }
}

/// A window or session as JSON.
fn window_json(window: TimeWindow, value: Value) -> Value {
    serde_json::json!({ "window_start": window.start_ms, "window_end": window.end_ms, "value": value })
}

impl<K, V> StoreQuery for TypedStoreQuery<K, V>
where
    K: Serialize + DeserializeOwned + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn layout(&self) -> QueryLayout {
        self.layout
    }

    fn partition(&self, key: &str, partitions: i32) -> Result<i32, QueryError> {
        let key: K = parse_key(key)?;
        let bytes = self
            .partition_codec
            .to_bytes(&key)
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        Ok(partitioner::partition_for_key(&bytes, partitions.unsigned_abs()) as i32)
    }

    fn get(&self, store: &SharedStore, key: &str) -> crate::Result<Result<Option<Value>, QueryError>> {
        let key: K = match parse_key(key) {
            Ok(key) => key,
            Err(e) => return Ok(Err(e)),
        };
        let value = KeyValueStore::<K, V>::new(Arc::clone(store)).get(&key)?;
        Ok(Ok(value.map(|v| serde_json::to_value(v).unwrap_or(Value::Null))))
    }

    fn fetch(
        &self,
        store: &SharedStore,
        key: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> crate::Result<Result<Vec<Value>, QueryError>> {
        let key: K = match parse_key(key) {
            Ok(key) => key,
            Err(e) => return Ok(Err(e)),
        };
        let windows = match self.layout {
            QueryLayout::Session => SessionStore::<K, V>::new(Arc::clone(store))
                .fetch(&key)?
                .into_iter()
                .filter(|(w, _)| (from_ms..=to_ms).contains(&w.start_ms))
                .collect(),
            QueryLayout::Window(size) => {
                WindowStore::<K, V>::new(Arc::clone(store), size).fetch_range(&key, from_ms, to_ms)?
            }
            QueryLayout::KeyValue => Vec::new(),
        };
        Ok(Ok(windows
            .into_iter()
            .map(|(window, value)| window_json(window, serde_json::to_value(value).unwrap_or(Value::Null)))
            .collect()))
    }

    fn for_each_entry(&self, store: &SharedStore, visit: &mut dyn FnMut(String, Value, Value)) -> crate::Result<()> {
        let json = |v: &dyn erased::Json| v.json();
        let mut windowed = |windowed: Windowed<K>, v: V| {
            let key = serde_json::json!({
                "key": json(&windowed.key),
                "window_start": windowed.window.start_ms,
                "window_end": windowed.window.end_ms,
            });
            let text = format!("{}@{:020}", key_text(&key["key"]), windowed.window.start_ms);
            visit(text, key, json(&v));
            Ok(())
        };
        match self.layout {
            QueryLayout::Window(size) => WindowStore::<K, V>::new(Arc::clone(store), size).for_each(&mut windowed),
            QueryLayout::Session => SessionStore::<K, V>::new(Arc::clone(store)).for_each(&mut windowed),
            QueryLayout::KeyValue => KeyValueStore::<K, V>::new(Arc::clone(store)).for_each(|k, v| {
                let key = json(&k);
                visit(key_text(&key), key, json(&v));
                Ok(())
            }),
        }
    }
}

mod erased {
    /// Anything serializable, as JSON (`null` if it cannot be represented).
    pub(super) trait Json {
        fn json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}
