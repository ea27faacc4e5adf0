//! Test support shared by the workspace's test suites; a dev-dependency only, never part of
//! the binary.
//!
//! A test that needs something outside the repository (the shared capture corpus, tshark,
//! root, network namespaces, a Prometheus server) calls [`skip`] when it is missing: on a
//! developer's machine the test then says so and passes; in CI (`CI` set, as `.ci/run` runs)
//! it fails, so a suite can never be green by skipping.

use std::fmt::Arguments;

/// Whether the tests run in CI: `CI` is set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// A prerequisite of the calling test is missing (`reason` says which): panics in CI, prints
/// `skipped: <reason>` otherwise (the caller then returns).
#[track_caller]
pub fn skip(reason: Arguments<'_>) {
    if in_ci() {
        panic!(
            "{reason} (CI is set: a missing prerequisite fails the test instead of skipping it)"
        );
    }
    eprintln!("skipped: {reason}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn skipping_outside_ci_returns() {
        if super::in_ci() {
            assert!(std::panic::catch_unwind(|| super::skip(format_args!("x"))).is_err());
        } else {
            super::skip(format_args!("nothing missing, just checking"));
        }
    }
}
