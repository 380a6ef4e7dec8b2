//! Settings from outside the code: a Java `.properties` file (`--config-file`) and `STREAMS_*`
//! environment variables, as the Kafka tools and container images take them.
//!
//! Precedence, lowest first: defaults, the file, the environment, command-line flags
//! (`--config key=value` and the named flags). Both sources are plain `(key, value)` lists fed
//! to [`StreamsConfigBuilder::set`](super::StreamsConfigBuilder::set), so a setting means the
//! same wherever it comes from.

use std::path::Path;

use super::ConfigError;

/// Environment variables with this prefix are settings.
pub const ENV_PREFIX: &str = "STREAMS_";

/// `STREAMS_*` variables that are not settings: the app's own flags and the test harness's.
const NOT_SETTINGS: &[&str] = &["HTTP_ADDR", "CONFIG_FILE", "LOG_FORMAT"];
/// Prefixes (after `STREAMS_`) of variables that are not settings either: the test harness's
/// `STREAMS_KAFKA_HOME` / `STREAMS_KAFKA_VERSION` (no Kafka setting starts with `kafka.`).
const NOT_SETTING_PREFIXES: &[&str] = &["KAFKA_"];

/// The setting an environment variable names, if it is one: `STREAMS_` stripped, lower-cased,
/// `_` → `.`, `__` → `_`, `___` → `-` (the convention of Kafka's container images), so
/// `STREAMS_SASL_PASSWORD` is `sasl.password` and `STREAMS_COMMIT_INTERVAL_MS` is
/// `commit.interval.ms`.
pub fn env_setting(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if rest.is_empty()
        || NOT_SETTINGS.contains(&rest)
        || NOT_SETTING_PREFIXES.iter().any(|p| rest.starts_with(p))
        || !rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let mut key = String::with_capacity(rest.len());
    let mut underscores = 0;
    for c in rest.chars().chain(std::iter::once('\0')) {
        if c == '_' {
            underscores += 1;
            continue;
        }
        match underscores {
            0 => {}
            1 => key.push('.'),
            2 => key.push('_'),
            3 => key.push('-'),
            _ => return None,
        }
        underscores = 0;
        if c != '\0' {
            key.push(c.to_ascii_lowercase());
        }
    }
    Some(key)
}

/// The settings among `vars` (e.g. [`std::env::vars`]), in name order so the result does not
/// depend on the environment's order.
pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = vars
        .into_iter()
        .filter_map(|(name, value)| env_setting(&name).map(|key| (key, value)))
        .collect();
    settings.sort();
    settings
}

/// Reads a `.properties` file (see [`parse`]).
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        line: 0,
        reason: e.to_string(),
    })?;
    parse(&text).map_err(|(line, reason)| ConfigError::File {
        path: path.display().to_string(),
        line,
        reason,
    })
}

/// Parses Java's `.properties` format: `key=value`, `key: value` or `key value` per logical
/// line; `#` and `!` start comments; a line ending in an odd number of `\` continues on the next
/// (its leading blanks dropped); `\t`, `\n`, `\r`, `\f`, `\uXXXX` and `\<char>` are escapes.
/// An error is `(line number, reason)`.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let start = line.trim_start();
        if start.is_empty() || start.starts_with('#') || start.starts_with('!') {
            continue;
        }
        let mut logical = start.to_owned();
        while ends_in_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|e| (index + 1, e))?;
        let value = unescape(value).map_err(|e| (index + 1, e))?;
        if key.is_empty() {
            return Err((index + 1, format!("`{}` has no key", logical.trim())));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn ends_in_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Splits at the first unescaped `=`, `:` or blank; blanks around the separator are dropped.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                let key = &line[..i];
                let mut rest = line[i..].trim_start_matches([' ', '\t', '\u{c}']);
                if c.is_whitespace() || c == '\u{c}' {
                    if let Some(after) = rest.strip_prefix(['=', ':']) {
                        rest = after;
                    }
                } else {
                    rest = &rest[1..];
                }
                return (key, rest.trim_start_matches([' ', '\t', '\u{c}']));
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("`\\u{hex}` is not a \\uXXXX escape"))?;
                out.push(code);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_properties_format_as_java_reads_it() {
        let text = "\
# a comment
! another
application.id = clicks
bootstrap.servers:broker-1:9092,broker-2:9092
commit.interval.ms 500
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username=\"alice\" \\
    password=\"s3cret\";
   state.dir=/var/lib/streams
path\\ with\\ spaces=a\\tb\\u00e9
empty.value=
ends.in.escaped.backslash=c:\\\\
";
        assert_eq!(
            parse(text).unwrap(),
            pairs(&[
                ("application.id", "clicks"),
                ("bootstrap.servers", "broker-1:9092,broker-2:9092"),
                ("commit.interval.ms", "500"),
                (
                    "sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3cret\";"
                ),
                ("state.dir", "/var/lib/streams"),
                ("path with spaces", "a\tb\u{e9}"),
                ("empty.value", ""),
                ("ends.in.escaped.backslash", "c:\\"),
            ])
        );
    }

    #[test]
    fn a_bad_escape_names_its_line() {
        assert_eq!(
            parse("a=1\nb=\\u12x4\n").unwrap_err(),
            (2, "`\\u12x4` is not a \\uXXXX escape".to_owned())
        );
        assert_eq!(parse("=value").unwrap_err().0, 1);
    }

    #[test]
    fn environment_variables_name_settings_as_kafka_images_do() {
        assert_eq!(env_setting("STREAMS_SASL_PASSWORD").as_deref(), Some("sasl.password"));
        assert_eq!(
            env_setting("STREAMS_COMMIT_INTERVAL_MS").as_deref(),
            Some("commit.interval.ms")
        );
        assert_eq!(
            env_setting("STREAMS_SOME__UNDERSCORE").as_deref(),
            Some("some_underscore")
        );
        assert_eq!(env_setting("STREAMS_A___B").as_deref(), Some("a-b"));
        assert_eq!(
            env_setting("STREAMS_CONSUMER_SESSION_TIMEOUT_MS").as_deref(),
            Some("consumer.session.timeout.ms")
        );
        for not_a_setting in [
            "PATH",
            "STREAMS_",
            "STREAMS_HTTP_ADDR",
            "STREAMS_CONFIG_FILE",
            "STREAMS_KAFKA_HOME",
            "STREAMS_KAFKA_VERSION",
            "STREAMS_BAD-NAME",
        ] {
            assert_eq!(env_setting(not_a_setting), None, "{not_a_setting}");
        }
        let vars = [
            ("STREAMS_NUM_STREAM_THREADS", "2"),
            ("HOME", "/root"),
            ("STREAMS_APPLICATION_ID", "a"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(
            from_env(vars),
            pairs(&[("application.id", "a"), ("num.stream.threads", "2")])
        );
    }
}
