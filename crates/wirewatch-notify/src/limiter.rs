//! The notification rate limit: a fixed window (a minute by default) opened by the first
//! notification, at most `max` notifications in it; the rest are suppressed and counted.
//! When a window ends with suppressed notifications, one summary is due; it opens the next
//! window and takes one of its places. Pure: the caller passes the time (the wall clock's
//! monotonic `Instant` in the notifier, made-up instants in tests).

use std::time::{Duration, Instant};

/// The rate limiter's state.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    max: u32,
    window: Duration,
    opened: Option<Instant>,
    used: u32,
    suppressed: u64,
}

impl RateLimiter {
    /// At most `max` notifications per `window`.
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            opened: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// Whether a notification may go out at `now`; if not, it is counted as suppressed.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        let expired = self
            .opened
            .is_none_or(|o| now.saturating_duration_since(o) >= self.window);
        if expired {
            self.opened = Some(now);
            self.used = 0;
        }
        if self.used < self.max {
            self.used += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }

    /// When notifications were suppressed and their window has ended at `now`: how many, and
    /// the summary of them takes the first place of a new window.
    pub(crate) fn take_summary(&mut self, now: Instant) -> Option<u64> {
        let end = self.summary_due_at()?;
        if now < end {
            return None;
        }
        let n = std::mem::take(&mut self.suppressed);
        self.opened = Some(now);
        self.used = 1;
        Some(n)
    }

    /// The suppressed count regardless of the window (at shutdown), cleared.
    pub(crate) fn take_pending(&mut self) -> Option<u64> {
        (self.suppressed > 0).then(|| std::mem::take(&mut self.suppressed))
    }

    /// When a summary will be due, if notifications were suppressed.
    pub(crate) fn summary_due_at(&self) -> Option<Instant> {
        if self.suppressed == 0 {
            return None;
        }
        self.opened.map(|o| o + self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_max_then_suppresses_then_summarises_once() {
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        let mut r = RateLimiter::new(3, w);
        let admitted = (0..10)
            .filter(|i| r.admit(t0 + Duration::from_secs(*i)))
            .count();
        assert_eq!(admitted, 3);
        assert_eq!(r.summary_due_at(), Some(t0 + w));
        assert_eq!(r.take_summary(t0 + Duration::from_secs(59)), None);
        assert_eq!(r.take_summary(t0 + w), Some(7));
        assert_eq!(r.take_summary(t0 + w + w), None);
        // The summary took one place of the new window.
        assert!(r.admit(t0 + w));
        assert!(r.admit(t0 + w));
        assert!(!r.admit(t0 + w));
        assert_eq!(r.take_pending(), Some(1));
        assert_eq!(r.take_pending(), None);
    }

    #[test]
    fn a_quiet_window_resets() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(1, Duration::from_secs(60));
        assert!(r.admit(t0));
        assert!(r.admit(t0 + Duration::from_secs(61)));
        assert_eq!(r.summary_due_at(), None);
    }
}
