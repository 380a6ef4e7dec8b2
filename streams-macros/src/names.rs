//! Names the macros derive or check: topic-name legality and Rust identifiers.

/// Why `name` cannot be (part of) a Kafka topic name, if it cannot.
pub(crate) fn topic_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_owned());
    }
    if name.len() > 200 {
        return Some(format!("it is {} characters long; keep it under 200", name.len()));
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` are not allowed".to_owned());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "it contains `{bad}`; topic names may only use ASCII letters, digits, `.`, `_` and `-`"
        ));
    }
    None
}

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

    #[test]
    fn topic_names() {
        assert!(topic_name_problem("click-counts").is_none());
        assert!(topic_name_problem("click counts").unwrap().contains("` `"));
        assert!(topic_name_problem("").is_some());
    }
}
