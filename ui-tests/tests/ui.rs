//! Compile-time behaviour of the `#[topology]` macros: every mistake in `ui/fail/` must be
//! rejected with the reviewed message in its `.stderr` (spanned at the offending token), and
//! every program in `ui/pass/` must compile.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    reuse_rocksdb_archive();
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

/// trybuild builds the test programs' dependencies again with flags of its own, and RocksDB's
/// C++ with them: ~20 minutes on 2 cores, the larger part of a cold test run. The archive the
/// workspace build already made is handed to it instead: librocksdb-sys links a prebuilt library
/// when `ROCKSDB_LIB_DIR` is set. Only trybuild's cargo (a child of this process) sees the
/// variable, so the workspace build keeps compiling its own.
fn reuse_rocksdb_archive() {
    if std::env::var_os("ROCKSDB_LIB_DIR").is_some() {
        return;
    }
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("build")))
        .and_then(|build| newest_rocksdb_archive_dir(&build))
    else {
        return;
    };
    // SAFETY (edition 2024 marks `set_var` unsafe: another thread reading the environment
    // meanwhile is undefined behaviour): this binary's only test sets it before trybuild starts
    // any thread or process, and nothing else in the binary reads the environment concurrently.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("ROCKSDB_LIB_DIR", &dir);
        std::env::set_var("ROCKSDB_STATIC", "1");
    }
}

/// The `out` directory of the workspace build's librocksdb-sys that holds `librocksdb.a` (the
/// newest, if several builds left one).
fn newest_rocksdb_archive_dir(build: &Path) -> Option<PathBuf> {
    std::fs::read_dir(build)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("librocksdb-sys-"))
        .map(|entry| entry.path().join("out"))
        .filter_map(|out| {
            let modified = out.join("librocksdb.a").metadata().ok()?.modified().ok()?;
            Some((modified, out))
        })
        .max()
        .map(|(_, out)| out)
}
