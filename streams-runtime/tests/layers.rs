//! The runtime's module layers, checked on its source (no broker, no build of anything): lower
//! modules never import upper ones, so there is no import cycle between top-level modules, and
//! `kafka/` is the only module that names rdkafka (as `state/rocks.rs` is for RocksDB).
//!
//! A move that breaks a rule fails here with the file and the import, instead of slowly turning
//! the tree back into one knot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, lowest first: each may import only those before it.
const LAYERS: &[&str] = &[
    "naming",
    "config",
    "error",
    "codec",
    "partitioner",
    "window",
    "metrics",
    "state",
    "processor",
    "topology",
    "task",
    "txn",
    "kafka",
    "query",
    "runtime",
    "server",
    "app",
    "testing",
    "__private",
];

/// Items the crate root re-exports, by the module they come from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("ErrorKind", "error"),
    ("Report", "error"),
    ("Result", "error"),
    ("KafkaStreams", "runtime"),
    ("State", "runtime"),
    ("TimeWindow", "window"),
    ("Windowed", "window"),
];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments and without its unit tests (which may use anything).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file is readable");
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file under `src/` belongs to (`lib.rs` has none).
fn module_of(src: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (module != "lib").then(|| module.to_owned())
}

/// Every `crate::<name>` path in `code`, mapped to the top-level module it names.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let module = ROOT_ITEMS
            .iter()
            .find(|(item, _)| *item == name)
            .map_or(name.as_str(), |(_, module)| module);
        out.insert(module.to_owned());
    }
    out
}

#[test]
fn lower_layers_never_import_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let rank = |module: &str| LAYERS.iter().position(|m| *m == module);
    let mut problems = Vec::new();
    for path in &files {
        let Some(module) = module_of(&src, path) else { continue };
        let Some(own) = rank(&module) else {
            problems.push(format!("{}: module `{module}` is not in LAYERS", path.display()));
            continue;
        };
        for imported in imported_modules(&code_of(path)) {
            match rank(&imported) {
                Some(other) if other > own => problems.push(format!(
                    "{}: `{module}` imports `{imported}`, a layer above it",
                    path.display()
                )),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

#[test]
fn only_the_kafka_module_names_rdkafka() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|path| module_of(&src, path).as_deref() != Some("kafka"))
        .filter(|path| {
            let code = code_of(path);
            code.contains("rdkafka::") || code.contains("use rdkafka")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(outside.is_empty(), "rdkafka named outside kafka/: {outside:?}");
}

/// The checks above are only as good as the import scan: it must see imports in all their forms.
#[test]
fn the_scan_sees_paths_and_root_reexports() {
    let code = "use crate::state::Store;\nfn f() -> crate::Result<()> { crate::kafka::x(); Ok(()) }\nimpl crate::KafkaStreams {}";
    let found: Vec<String> = imported_modules(code).into_iter().collect();
    assert_eq!(found, ["error", "kafka", "runtime", "state"]);
}
