//! The [`Notifier`]: a bounded queue and one background thread that delivers alerts to every
//! configured channel, with the rate limit, retries with doubling back-off, and counters.
//!
//! What is sent: alerts at or above `min_severity`, once, when they open. Updates and ends of
//! an incident are not sent (a long attack would otherwise notify at every interval); the
//! caller says which it has with `opened`. [`Notifier::notify`] never blocks: a full queue
//! drops the alert and counts it.
//!
//! **Wall clock.** Unlike the pipeline, which runs on packet time, this crate reads the wall
//! clock: the rate limit, the retry back-off and the shutdown deadline are about real time
//! (a receiver's outage or a person's inbox do not follow packet time), and the syslog
//! header and the suppression summary are stamped with the time they are made. A replayed
//! capture therefore notifies at replay speed, still within the rate limit.
//!
//! Delivery goes channel by channel; each channel's failed attempt is retried (when
//! [`DeliveryError::is_retryable`]) up to `retries` times, waiting `retry_backoff_ms`,
//! doubled after each retry up to `retry_backoff_max_ms`. While one alert is retried, the
//! others wait in the queue. A channel that still fails counts one `failed` and the thread
//! moves on; the last error is kept for display.

use crate::channel::{Channel, ChannelKind};
use crate::config::NotifyConfig;
use crate::email::Email;
use crate::error::{DeliveryError, NotifyError};
use crate::limiter::RateLimiter;
use crate::syslog::Syslog;
use crate::timefmt;
use crate::webhook::Webhook;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wirewatch_core::{Alert, Severity};

/// The rate limit's window: the setting is per minute.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// How long [`Notifier::shutdown`] keeps delivering what is queued: long enough for a few
/// quick deliveries and short retries, short enough that a dead receiver does not hold up
/// the program's exit. An attempt already under way may add its own timeout.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);
/// The `kind` of the summary sent when notifications were suppressed by the rate limit.
pub const SUMMARY_KIND: &str = "notifications_suppressed";

/// Real-time settings that are not part of the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The rate limit's window ([`DEFAULT_RATE_WINDOW`]; tests shorten it).
    pub rate_window: Duration,
    /// How long shutdown keeps delivering ([`DEFAULT_SHUTDOWN_DEADLINE`]).
    pub shutdown_deadline: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            rate_window: DEFAULT_RATE_WINDOW,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
        }
    }
}

/// Successful deliveries per channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelCounts {
    /// Webhook posts answered with 2xx.
    pub webhook: u64,
    /// Syslog messages sent.
    pub syslog: u64,
    /// E-mails accepted by the SMTP server.
    pub email: u64,
}

impl ChannelCounts {
    /// The count of `kind`.
    pub fn get(&self, kind: ChannelKind) -> u64 {
        match kind {
            ChannelKind::Webhook => self.webhook,
            ChannelKind::Syslog => self.syslog,
            ChannelKind::Email => self.email,
        }
    }
}

/// What the notifier has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyStats {
    /// Successful deliveries per channel (suppression summaries included).
    pub sent: ChannelCounts,
    /// Deliveries given up (per channel) after the last retry or on an error retrying
    /// cannot fix.
    pub failed: u64,
    /// Retry attempts made.
    pub retried: u64,
    /// Alerts not sent because the rate limit was reached.
    pub dropped_rate_limit: u64,
    /// Alerts not sent because the queue was full (or the thread had stopped).
    pub dropped_queue: u64,
    /// Alerts still queued when the shutdown deadline passed.
    pub dropped_shutdown: u64,
    /// Alerts not queued: below `min_severity`, or an update or end rather than an opening.
    pub filtered: u64,
    /// Suppression summaries handed to the channels.
    pub summaries: u64,
    /// The most recent delivery error, if any.
    pub last_error: Option<String>,
}

/// What [`Notifier::notify`] did with an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued for delivery.
    Queued,
    /// Not for notification (severity below the minimum, or not an opening).
    Filtered,
    /// Dropped: the queue is full.
    QueueFull,
    /// Dropped: the notifier has shut down.
    Stopped,
}

/// Counters shared by the caller and the delivery thread.
#[derive(Debug, Default)]
struct Counters {
    webhook: AtomicU64,
    syslog: AtomicU64,
    email: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    dropped_rate_limit: AtomicU64,
    dropped_queue: AtomicU64,
    dropped_shutdown: AtomicU64,
    filtered: AtomicU64,
    summaries: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// State shared by the handle and the thread.
#[derive(Debug, Default)]
struct Shared {
    counters: Counters,
    last_error: Mutex<Option<String>>,
    /// Set by shutdown: deliver nothing after this instant.
    deadline: Mutex<Option<Instant>>,
    /// Wakes a back-off wait when the deadline is set.
    wake: Condvar,
}

/// Locks `m`, going on with the data if a thread panicked while holding it (the data are
/// counters and a message, never left half-written).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn past_deadline(&self) -> bool {
        lock(&self.deadline).is_some_and(|d| Instant::now() >= d)
    }

    /// Waits `wait` before a retry; false when the shutdown deadline would pass first (the
    /// retry is then abandoned without waiting).
    fn back_off(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        let mut deadline = lock(&self.deadline);
        loop {
            if deadline.is_some_and(|d| until > d) {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            deadline = self
                .wake
                .wait_timeout(deadline, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn record_error(&self, e: &DeliveryError) {
        *lock(&self.last_error) = Some(e.to_string());
    }

    fn sent(&self, kind: ChannelKind) {
        bump(match kind {
            ChannelKind::Webhook => &self.counters.webhook,
            ChannelKind::Syslog => &self.counters.syslog,
            ChannelKind::Email => &self.counters.email,
        });
    }

    fn stats(&self) -> NotifyStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NotifyStats {
            sent: ChannelCounts {
                webhook: get(&c.webhook),
                syslog: get(&c.syslog),
                email: get(&c.email),
            },
            failed: get(&c.failed),
            retried: get(&c.retried),
            dropped_rate_limit: get(&c.dropped_rate_limit),
            dropped_queue: get(&c.dropped_queue),
            dropped_shutdown: get(&c.dropped_shutdown),
            filtered: get(&c.filtered),
            summaries: get(&c.summaries),
            last_error: lock(&self.last_error).clone(),
        }
    }
}

/// Reads a notifier's counters ([`Notifier::stats_handle`]).
#[derive(Debug, Clone)]
pub struct NotifyStatsHandle(Arc<Shared>);

impl NotifyStatsHandle {
    /// The counters so far.
    pub fn stats(&self) -> NotifyStats {
        self.0.stats()
    }
}

/// Says a channel's failed deliveries on the log: the first at once, then at most one line a
/// minute with how many failed since, so a receiver that is down does not flood the log.
#[derive(Debug, Default)]
struct FailureLog {
    last: Option<Instant>,
    unsaid: u64,
}

/// How often a failing channel is mentioned again.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);

impl FailureLog {
    fn failed(&mut self, kind: ChannelKind, e: &DeliveryError, now: Instant) {
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < FAILURE_LOG_EVERY)
        {
            self.unsaid += 1;
            return;
        }
        let channel = kind.name();
        if self.unsaid > 0 {
            tracing::warn!(
                channel,
                more = self.unsaid,
                "notification via {channel} failed: {e} ({} more failed since the last line)",
                self.unsaid
            );
        } else {
            tracing::warn!(channel, "notification via {channel} failed: {e}");
        }
        self.last = Some(now);
        self.unsaid = 0;
    }
}

/// Sends alerts to the configured channels from a background thread.
///
/// Dropping it shuts it down as [`Notifier::shutdown`] does.
#[derive(Debug)]
pub struct Notifier {
    tx: Option<SyncSender<Alert>>,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
    min_severity: Severity,
    shutdown_deadline: Duration,
}

impl Notifier {
    /// Validates `config`, sets up its channels (nothing is connected yet) and starts the
    /// delivery thread.
    pub fn start(config: NotifyConfig) -> Result<Notifier, NotifyError> {
        Notifier::start_with_timing(config, Timing::default())
    }

    /// As [`start`](Self::start) with other real-time settings (a shorter rate window in
    /// tests, a longer shutdown deadline for a slow receiver).
    pub fn start_with_timing(
        config: NotifyConfig,
        timing: Timing,
    ) -> Result<Notifier, NotifyError> {
        config.validate()?;
        let mut channels: Vec<Box<dyn Channel>> = Vec::new();
        if let Some(w) = &config.webhook {
            channels.push(Box::new(Webhook::new(w)?));
        }
        if let Some(s) = &config.syslog {
            channels.push(Box::new(Syslog::new(s)?));
        }
        if let Some(e) = &config.email {
            channels.push(Box::new(Email::new(e)?));
        }
        let (tx, rx) = mpsc::sync_channel(config.queue);
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            rx,
            channels,
            limiter: RateLimiter::new(config.max_per_minute, timing.rate_window),
            retry: RetryPolicy {
                retries: config.retries,
                first: config.retry_backoff(),
                max: config.retry_backoff_max(),
            },
            shared: Arc::clone(&shared),
            min_severity: config.min_severity,
            max_per_window: config.max_per_minute,
            window: timing.rate_window,
            failures: FailureLog::default(),
        };
        let handle = std::thread::Builder::new()
            .name("wirewatch-notify".to_string())
            .spawn(move || worker.run())
            .map_err(NotifyError::Spawn)?;
        Ok(Notifier {
            tx: Some(tx),
            shared,
            worker: Some(handle),
            min_severity: config.min_severity,
            shutdown_deadline: timing.shutdown_deadline,
        })
    }

    /// Queues `alert` for delivery if it is at or above the minimum severity and `opened` is
    /// true (the alert has just opened; updates and ends are not sent). Never blocks: a full
    /// queue drops the alert and counts it.
    pub fn notify(&self, alert: &Alert, opened: bool) -> Submitted {
        if !opened || alert.severity < self.min_severity {
            bump(&self.shared.counters.filtered);
            return Submitted::Filtered;
        }
        let Some(tx) = &self.tx else {
            bump(&self.shared.counters.dropped_queue);
            return Submitted::Stopped;
        };
        match tx.try_send(alert.clone()) {
            Ok(()) => Submitted::Queued,
            Err(TrySendError::Full(_)) => {
                bump(&self.shared.counters.dropped_queue);
                Submitted::QueueFull
            }
            Err(TrySendError::Disconnected(_)) => {
                bump(&self.shared.counters.dropped_queue);
                Submitted::Stopped
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> NotifyStats {
        self.shared.stats()
    }

    /// A handle that reads the counters from elsewhere (the dashboard's `/metrics`), for as
    /// long as it is kept, even after the notifier has shut down.
    pub fn stats_handle(&self) -> NotifyStatsHandle {
        NotifyStatsHandle(Arc::clone(&self.shared))
    }

    /// Stops taking alerts, delivers what is queued until the shutdown deadline (what is
    /// left then is counted in `dropped_shutdown`; retries that would end after it are not
    /// made), sends a pending suppression summary, waits for the thread and returns the final
    /// counters. An attempt under way at the deadline finishes or times out first.
    /// Idempotent.
    pub fn shutdown(&mut self) -> NotifyStats {
        if let Some(handle) = self.worker.take() {
            *lock(&self.shared.deadline) = Some(Instant::now() + self.shutdown_deadline);
            self.shared.wake.notify_all();
            self.tx = None;
            if handle.join().is_err() {
                *lock(&self.shared.last_error) =
                    Some("the notification thread panicked".to_string());
            }
        }
        self.tx = None;
        self.stats()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    retries: u32,
    first: Duration,
    max: Duration,
}

/// The delivery thread's state.
struct Worker {
    rx: Receiver<Alert>,
    channels: Vec<Box<dyn Channel>>,
    limiter: RateLimiter,
    retry: RetryPolicy,
    shared: Arc<Shared>,
    min_severity: Severity,
    max_per_window: u32,
    window: Duration,
    failures: FailureLog,
}

impl Worker {
    fn run(mut self) {
        loop {
            if let Some(n) = self.limiter.take_summary(Instant::now()) {
                self.send_summary(n);
            }
            let received = match self.limiter.summary_due_at() {
                Some(at) => self
                    .rx
                    .recv_timeout(at.saturating_duration_since(Instant::now())),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let alert = match received {
                Ok(a) => a,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if self.shared.past_deadline() {
                bump(&self.shared.counters.dropped_shutdown);
            } else if self.limiter.admit(Instant::now()) {
                self.deliver(&alert);
            } else {
                bump(&self.shared.counters.dropped_rate_limit);
            }
        }
        // Shutting down: say what was suppressed even if its window is still open.
        if let Some(n) = self.limiter.take_pending()
            && !self.shared.past_deadline()
        {
            self.send_summary(n);
        }
    }

    fn send_summary(&mut self, suppressed: u64) {
        bump(&self.shared.counters.summaries);
        let alert = summary_alert(
            suppressed,
            self.min_severity,
            self.max_per_window,
            self.window,
        );
        self.deliver(&alert);
    }

    /// Delivers `alert` through every channel, retrying each as the policy says.
    fn deliver(&mut self, alert: &Alert) {
        for channel in &mut self.channels {
            let mut wait = self.retry.first;
            let mut retries = 0;
            loop {
                match channel.send(alert) {
                    Ok(()) => {
                        self.shared.sent(channel.kind());
                        break;
                    }
                    Err(e) => {
                        self.shared.record_error(&e);
                        if retries >= self.retry.retries
                            || !e.is_retryable()
                            || !self.shared.back_off(wait)
                        {
                            bump(&self.shared.counters.failed);
                            self.failures.failed(channel.kind(), &e, Instant::now());
                            break;
                        }
                        retries += 1;
                        bump(&self.shared.counters.retried);
                        wait = (wait * 2).min(self.retry.max);
                    }
                }
            }
        }
    }
}

/// The notification that says how many were suppressed by the rate limit.
fn summary_alert(suppressed: u64, severity: Severity, max: u32, window: Duration) -> Alert {
    let now = timefmt::now();
    let per = if window == DEFAULT_RATE_WINDOW {
        "minute".to_string()
    } else {
        format!("{} ms", window.as_millis())
    };
    Alert {
        id: 0,
        kind: SUMMARY_KIND.to_string(),
        severity,
        confidence: 1.0,
        start_ts: now,
        last_ts: now,
        updates: 0,
        sources: Vec::new(),
        targets: Vec::new(),
        ports: Vec::new(),
        message: format!(
            "{suppressed} notifications suppressed by the rate limit (at most {max} per {per})"
        ),
        recommendation: "See the alert list in the dashboard or the database for the alerts \
                         that were not sent; raise notify.max_per_minute if this happens often."
            .to_string(),
        evidence: serde_json::json!({
            "suppressed": suppressed,
            "max_per_window": max,
            "window_ms": u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Notifier>();
    }

    #[test]
    fn summary_text() {
        let a = summary_alert(15, Severity::High, 10, DEFAULT_RATE_WINDOW);
        assert_eq!(a.kind, SUMMARY_KIND);
        assert_eq!(
            a.message,
            "15 notifications suppressed by the rate limit (at most 10 per minute)"
        );
        assert_eq!(a.evidence["window_ms"], 60_000);
    }

    #[test]
    fn a_back_off_ending_after_the_deadline_is_abandoned_at_once() {
        let shared = Shared::default();
        assert!(shared.back_off(Duration::from_millis(5)));
        *lock(&shared.deadline) = Some(Instant::now() + Duration::from_millis(50));
        let t = Instant::now();
        assert!(!shared.back_off(Duration::from_secs(5)));
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(shared.back_off(Duration::from_millis(1)));
    }
}
