//! Duration literals: `"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"7d"`.
//!
//! Grace periods may be zero (`grace = "0s"`: a window closes as soon as stream time passes its end,
//! as `ofSizeWithNoGrace` in Kafka Streams); sizes, advances, gaps, join windows and retention must be
//! positive, so they go through [`parse_positive_duration`].

use syn::LitStr;

/// Milliseconds of a window size, gap, join window or retention: a duration that is not zero.
pub(crate) fn parse_positive_duration(lit: &LitStr) -> syn::Result<u64> {
    match parse_duration(lit)? {
        0 => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{}` is zero; a window size, gap or retention must be positive",
                lit.value()
            ),
        )),
        ms => Ok(ms),
    }
}

/// Milliseconds of a duration literal (zero allowed), or an error spanned at it saying what is accepted.
pub(crate) fn parse_duration(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    let value: Option<u64> = number.parse().ok();
    match value.and_then(|v| v.checked_mul(factor)) {
        Some(ms) if factor > 0 => Ok(ms),
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{text}` is not a duration; write a whole number followed by ms, s, m, h or d, e.g. \"5m\" or \"30s\""
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Result<u64, String> {
        parse_duration(&LitStr::new(text, proc_macro2::Span::call_site())).map_err(|e| e.to_string())
    }

    #[test]
    fn units() {
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("5m"), Ok(300_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("2d"), Ok(172_800_000));
    }

    #[test]
    fn rejects() {
        for bad in ["5", "m", "5x", "-5m", "1.5h", ""] {
            assert!(ms(bad).unwrap_err().contains("is not a duration"), "{bad}");
        }
        assert_eq!(ms("0s"), Ok(0));
        let zero = parse_positive_duration(&LitStr::new("0m", proc_macro2::Span::call_site()));
        assert!(zero.unwrap_err().to_string().contains("is zero"));
    }
}
