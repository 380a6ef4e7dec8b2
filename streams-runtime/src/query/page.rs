//! One page of a store scan (`GET /stores/{store}`), collected in bounded memory.
//!
//! Pages are ordered by the key's *text* (what users filter and page on), which is not the
//! order of the stored bytes, so a scan cannot seek to `after` in the store: it reads every
//! entry once, a chunk at a time (`Store::for_each_chunk`, off the async runtime), and keeps
//! only the `limit + 1` smallest texts that pass the filter — memory is bounded by the page,
//! not by the store, and the stream thread gets the store's lock between chunks.

use std::collections::BTreeMap;

use serde_json::Value;

/// Which key texts a scan returns: `?prefix=`, `?from=`/`?to=` (inclusive), `?after=`.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyFilter {
    pub(crate) prefix: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) after: Option<String>,
}

impl KeyFilter {
    pub(crate) fn keeps(&self, text: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| text.starts_with(p))
            && self.from.as_deref().is_none_or(|f| text >= f)
            && self.to.as_deref().is_none_or(|t| text <= t)
            && self.after.as_deref().is_none_or(|a| text > a)
    }
}

/// An entry of a page: key, value, and the standby marker if a standby answered it.
pub(crate) struct PageEntry {
    pub(crate) key: Value,
    pub(crate) value: Value,
    pub(crate) standby: Option<Value>,
}

/// The smallest `limit + 1` entries offered so far (the extra one says whether a next page
/// exists), by key text; an active task's entry wins over a standby's copy of the same key.
pub(crate) struct Page {
    filter: KeyFilter,
    limit: usize,
    entries: BTreeMap<String, PageEntry>,
}

impl Page {
    pub(crate) fn new(filter: KeyFilter, limit: usize) -> Self {
        Self {
            filter,
            limit,
            entries: BTreeMap::new(),
        }
    }

    pub(crate) fn offer(&mut self, text: String, entry: PageEntry) {
        if !self.filter.keeps(&text) {
            return;
        }
        if self.entries.len() > self.limit && self.entries.last_key_value().is_some_and(|(last, _)| text > *last) {
            return;
        }
        match self.entries.get_mut(&text) {
            Some(existing) => {
                if existing.standby.is_some() && entry.standby.is_none() {
                    *existing = entry;
                }
            }
            None => {
                self.entries.insert(text, entry);
                if self.entries.len() > self.limit + 1 {
                    self.entries.pop_last();
                }
            }
        }
    }

    /// The page's entries in key-text order, and the `after` of the next page if there is one.
    pub(crate) fn finish(mut self) -> (Vec<(String, PageEntry)>, Option<String>) {
        let more = self.entries.len() > self.limit;
        if more {
            self.entries.pop_last();
        }
        let next = more
            .then(|| self.entries.last_key_value().map(|(text, _)| text.clone()))
            .flatten();
        (self.entries.into_iter().collect(), next)
    }
}

/// Percent-encodes a path segment (a store name, a key's text) of a query URL.
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(value: i64, standby: bool) -> PageEntry {
        PageEntry {
            key: json!(null),
            value: json!(value),
            standby: standby.then(|| json!({})),
        }
    }

    #[test]
    fn keeps_the_smallest_texts_and_says_where_the_next_page_starts() {
        let mut page = Page::new(KeyFilter::default(), 3);
        for i in [9, 4, 7, 1, 8, 3, 2] {
            page.offer(format!("k{i}"), entry(i, false));
        }
        assert!(page.entries.len() <= 4, "bounded by limit + 1");
        let (entries, next) = page.finish();
        let texts: Vec<&str> = entries.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["k1", "k2", "k3"]);
        assert_eq!(next.as_deref(), Some("k3"));
    }

    #[test]
    fn an_active_entry_replaces_a_standby_copy_of_the_same_key_and_filters_apply() {
        let filter = KeyFilter {
            prefix: Some("a".into()),
            after: Some("a1".into()),
            ..KeyFilter::default()
        };
        let mut page = Page::new(filter, 10);
        page.offer("a2".into(), entry(1, true));
        page.offer("a2".into(), entry(2, false));
        page.offer("a2".into(), entry(3, true));
        page.offer("a1".into(), entry(4, false));
        page.offer("b1".into(), entry(5, false));
        let (entries, next) = page.finish();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].1.value, json!(2));
        assert!(entries[0].1.standby.is_none());
        assert_eq!(next, None);
    }
}
