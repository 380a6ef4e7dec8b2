//! Word count, the classic: lines of text → words → a running count per word, through a
//! repartition topic (words are re-keyed), declared with the `#[topology]` macros.

/// The pipeline.
#[kafka_streams::topology(application_id = "word-count")]
pub mod pipeline {
    /// Lines of text; the key is not used.
    #[source(topic = "text-lines")]
    pub type TextLines = (String, String);

    /// Every word of a line, lower-cased and keyed by itself: counting then reads through the
    /// repartition topic `word-count-word-counts-repartition`.
    pub fn words(#[from(TextLines)] line: String) -> Vec<(String, String)> {
        line.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| (w.to_lowercase(), w.to_lowercase()))
            .collect()
    }

    /// The running count per word, in the key-value store `word-counts`.
    #[state_store(name = "word-counts")]
    pub fn count_words(#[from(words)] _word: &String, _occurrence: &String, count: &mut u64) {
        *count += 1;
    }

    /// Every count update, `word → count`.
    #[sink(topic = "word-counts", from = count_words)]
    pub fn publish(count: u64) -> u64 {
        count
    }
}
