//! Compile-time behaviour of the `#[topology]` macros: every mistake in `ui/fail/` must be
//! rejected with the reviewed message in its `.stderr` (spanned at the offending token), and
//! every program in `ui/pass/` must compile.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
