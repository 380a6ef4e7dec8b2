//! Every node kind and output shape the macros accept.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub url: String,
    pub timestamp: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub name: String,
}

#[kafka_streams::topology(application_id = "shapes", on_error = "fail")]
pub mod shapes {
    use super::{Click, User};

    #[source(topic = "clicks", timestamp = |_key: &String, _click: &Click, broker_ts: i64| broker_ts)]
    pub type Clicks = (String, Click);

    #[source(topic = "more-clicks", key_format = "json")]
    pub type MoreClicks = (String, Click);

    #[table(topic = "users", store = "users", in_memory)]
    pub type Users = (String, User);

    /// Filter.
    pub fn secure(#[from(Clicks, MoreClicks)] click: &Click) -> bool {
        click.url.starts_with("https")
    }

    /// Peek.
    pub fn log(#[from(secure)] user: &String, click: &Click) {
        let _ = (user, click);
    }

    /// Value with key, zero-or-one values, many values.
    pub fn label(#[from(log)] user: &String, click: Click) -> String {
        format!("{user}:{}", click.url)
    }

    pub fn non_empty(#[from(label)] text: String) -> Option<String> {
        (!text.is_empty()).then_some(text)
    }

    pub fn letters(#[from(non_empty)] text: String) -> Vec<char> {
        text.chars().collect()
    }

    /// Fallible: every shape may return `Result<_, E>`; `Err` goes to the topology's `on_error`.
    pub fn checked(#[from(Clicks)] user: &String, click: &Click) -> Result<bool, String> {
        if user.is_empty() { Err(format!("no user for {}", click.url)) } else { Ok(true) }
    }

    pub fn audited(#[from(checked)] click: &Click) -> Result<(), std::fmt::Error> {
        let _ = click;
        Ok(())
    }

    pub fn port(#[from(audited)] user: &String, click: Click) -> Result<u16, std::num::ParseIntError> {
        let _ = user;
        click.url.rsplit(':').next().unwrap_or_default().parse()
    }

    pub fn path_parts(#[from(Clicks)] click: Click) -> Result<Vec<(String, i64)>, String> {
        Ok(click.url.split('/').map(|p| (p.to_owned(), click.timestamp)).collect())
    }

    #[sink(topic = "ports", from = port)]
    pub fn ports(user: String, port: u16) -> (String, u16) {
        (user, port)
    }

    #[sink(topic = "path-parts", from = path_parts)]
    pub fn parts(part: String, ts: i64) -> Result<(String, i64), String> {
        Ok((part, ts))
    }

    /// Re-keying: one, zero-or-one, many.
    pub fn by_letter(#[from(letters)] letter: char) -> (char, u32) {
        (letter, 1)
    }

    pub fn by_url(#[from(Clicks)] click: Click) -> Option<(String, Click)> {
        Some((click.url.clone(), click))
    }

    pub fn by_parts(#[from(by_url)] url: String, click: Click) -> Vec<(String, i64)> {
        url.split('/').map(|p| (p.to_owned(), click.timestamp)).collect()
    }

    /// Aggregations: in memory, unlogged, hopping windows.
    #[state_store(name = "letter-counts", in_memory)]
    pub fn count_letters(#[from(by_letter)] _letter: &char, one: &u32, n: &mut u64) {
        *n += u64::from(*one);
    }

    #[state_store(name = "latest-part", logged = false)]
    pub fn latest(#[from(by_parts)] _part: &String, ts: &i64, latest: &mut i64) {
        *latest = (*latest).max(*ts);
    }

    #[windowed(hopping(size = "10m", advance = "1m"), grace = "1m")]
    #[state_store(name = "hopping-counts")]
    pub fn hopping(#[from(Clicks)] _user: &String, _click: &Click, n: &mut u64) {
        *n += 1;
    }

    /// Sessions (merged with `add` when a click bridges two), final results only.
    #[windowed(session(inactivity_gap = "30m"), grace = "5m", merge = add, emit = "final")]
    #[state_store(name = "click-sessions")]
    pub fn sessions(#[from(Clicks)] _user: &String, _click: &Click, n: &mut u64) {
        *n += 1;
    }

    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }

    /// Final results only, kept a week.
    #[windowed(tumbling = "1h", grace = "5m", emit = "final", retention = "7d")]
    #[state_store(name = "hourly-final")]
    pub fn hourly(#[from(Clicks)] _user: &String, _click: &Click, n: &mut u64) {
        *n += 1;
    }

    /// Joins: inner (with the key) and left.
    #[join(table = Users)]
    pub fn greet(#[from(Clicks)] user_id: &String, click: &Click, user: &User) -> String {
        format!("{user_id} {} {}", user.name, click.url)
    }

    #[join(table = Users, from = MoreClicks)]
    pub fn maybe_greet(click: Click, user: Option<User>) -> String {
        format!("{} {}", user.map(|u| u.name).unwrap_or_default(), click.url)
    }

    /// A global table and a join with it by a computed key.
    #[table(topic = "user-directory", store = "user-directory", global)]
    pub type Directory = (String, User);

    pub fn user_of(user_id: &String, _click: &Click) -> String {
        user_id.clone()
    }

    #[join(global = Directory, key = user_of)]
    pub fn directory_name(#[from(Clicks)] click: &Click, user: Option<&User>) -> String {
        format!("{} {}", click.url, user.map_or("?", |u| u.name.as_str()))
    }

    /// Stream-stream joins: inner (with the key), left, outer.
    #[join(stream = MoreClicks, within = "30s")]
    pub fn same_user(#[from(Clicks)] user: &String, click: &Click, other: &Click) -> String {
        format!("{user} {} {}", click.url, other.url)
    }

    #[join(stream = MoreClicks, within = "1m", grace = "10s", from = Clicks)]
    pub fn maybe_same_user(click: Click, other: Option<Click>) -> usize {
        click.url.len() + other.map_or(0, |o| o.url.len())
    }

    #[join(stream = MoreClicks, within = "1m", from = Clicks)]
    pub fn either(click: Option<&Click>, other: Option<&Click>) -> bool {
        click.is_some() && other.is_some()
    }

    /// Sinks: value only, explicit formats.
    #[sink(topic = "greetings", from = greet)]
    pub fn greetings(text: String) -> String {
        text
    }

    #[sink(topic = "maybe-greetings", from = maybe_greet, value_format = "json")]
    pub fn maybe_greetings(user_id: String, text: String) -> (String, String) {
        (user_id, text)
    }

    #[sink(topic = "letters", from = count_letters, key_format = "json")]
    pub fn letter_counts(letter: char, n: u64) -> (String, u64) {
        (letter.to_string(), n)
    }
}

fn main() {
    let topology = shapes::topology().expect("valid");
    let description = topology.describe();
    assert!(description.contains("letter-counts-repartition"), "{description}");
    assert!(description.contains("users-join-repartition") || description.contains("JOIN"), "{description}");
    assert_eq!(shapes::stores::HoppingCounts::WINDOW_SIZE_MS, 600_000);
    let _ = shapes::stores::LatestPart::NAME;
    let _ = shapes::topics::LETTER_COUNTS_REPARTITION;
}
