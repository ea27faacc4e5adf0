//! Test support shared by the workspace's test suites; a dev-dependency only, never part of
//! the binary (no crate may list it under `[dependencies]`). It depends on no Wirewatch crate.
//!
//! A test that needs something outside the repository (the shared capture corpus, tshark,
//! root, network namespaces, a Prometheus server) calls [`skip`] when it is missing: on a
//! developer's machine the test then says so and passes; in CI (`CI` set, as `.ci/run` runs)
//! it fails, so a suite can never be green by skipping.
//!
//! A test that waits for something to happen (a worker to finish, a server to close a
//! connection, a child process to get going) waits for that condition with [`wait_until`] or
//! [`poll_until`], never with a fixed sleep: a sleep long enough for a loaded CI machine
//! wastes time everywhere else, and one that is not long enough fails at random. A sleep
//! stays only where the passing time is the point (proving that something does *not*
//! happen, pacing a real-time source, a deliberately slow fake server), with a comment
//! saying so.

use std::fmt::Arguments;
use std::time::{Duration, Instant};

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

/// How often [`wait_until`] and [`poll_until`] check their condition.
pub const POLL_EVERY: Duration = Duration::from_millis(10);

/// Polls `condition` every [`POLL_EVERY`] until it holds; panics, naming `what` it waited
/// for, when it still does not hold after `timeout`.
///
/// The timeout only bounds a failure, a passing test returns as soon as the condition holds:
/// make it generous (seconds), as a loaded CI machine can be many times slower than a
/// developer's. The condition is checked once more at the deadline, so a condition that
/// became true during the last poll interval still passes.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let done = Arc::new(AtomicBool::new(false));
/// let worker = {
///     let done = done.clone();
///     std::thread::spawn(move || done.store(true, Ordering::Relaxed))
/// };
/// wirewatch_testkit::wait_until(Duration::from_secs(10), "the worker to finish", || {
///     done.load(Ordering::Relaxed)
/// });
/// worker.join().unwrap();
/// ```
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, condition: impl FnMut() -> bool) {
    if !poll_until(timeout, condition) {
        panic!("timed out after {timeout:?} waiting for {what}");
    }
}

/// Polls `condition` every [`POLL_EVERY`] until it holds (`true`) or `timeout` has passed
/// (`false`, after one last check at the deadline). For a test that must clean up, or say
/// more than [`wait_until`] can, before it fails; otherwise prefer [`wait_until`].
pub fn poll_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(POLL_EVERY.min(deadline - now));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn skipping_outside_ci_returns() {
        if super::in_ci() {
            assert!(std::panic::catch_unwind(|| super::skip(format_args!("x"))).is_err());
        } else {
            super::skip(format_args!("nothing missing, just checking"));
        }
    }

    #[test]
    fn waiting_returns_once_the_condition_holds() {
        let mut calls = 0;
        super::wait_until(Duration::from_secs(10), "the third call", || {
            calls += 1;
            calls == 3
        });
        assert_eq!(calls, 3);
    }

    #[test]
    fn waiting_past_the_deadline_fails_or_says_so() {
        let started = Instant::now();
        assert!(!super::poll_until(Duration::from_millis(50), || false));
        assert!(started.elapsed() >= Duration::from_millis(50));
        let err = std::panic::catch_unwind(|| {
            super::wait_until(Duration::from_millis(20), "nothing", || false);
        })
        .unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert!(message.contains("waiting for nothing"), "{message}");
    }
}
