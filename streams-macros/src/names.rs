//! Rust identifiers the macros derive from names (topic names and their rules are
//! `kafka_streams_naming`'s, shared with the runtime).

/// `click-counts` → `ClickCounts`.
pub(crate) fn camel_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `click-counts` → `CLICK_COUNTS`.
pub(crate) fn screaming_snake_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(camel_case("click-counts"), "ClickCounts");
        assert_eq!(camel_case("orders.v2_raw"), "OrdersV2Raw");
        assert_eq!(screaming_snake_case("click-counts"), "CLICK_COUNTS");
    }
}
