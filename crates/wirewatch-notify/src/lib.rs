//! Wirewatch notifications: alerts at or above a chosen severity, sent when they open to a
//! JSON webhook (Slack, Teams, Discord or any endpoint, through a template), a syslog
//! receiver (RFC 5424 over UDP or TCP) and e-mail (SMTP, STARTTLS optional), rate-limited and
//! retried with back-off on one background thread fed by a bounded queue.
//!
//! The engine calls [`Notifier::notify`], which never blocks; [`Notifier::stats`] gives the
//! counters (sent per channel, failed, retried, dropped by the rate limit or a full queue);
//! [`Notifier::shutdown`] delivers what is queued within a short deadline.
//!
//! This crate reads the wall clock (rate limits, back-off and deadlines are real time) and
//! does network I/O; it must not be called from a decoder, a detector or the engine, only from
//! the binary's outputs (its notification output), and must not depend on any Wirewatch crate
//! but `wirewatch-core`. See [`notifier`] for what is sent and when.
//!
//! ```toml
//! [notify]
//! min_severity = "high"          # low, medium, high, critical
//! max_per_minute = 10
//! retries = 3
//! retry_backoff_ms = 1000        # doubles after each retry …
//! retry_backoff_max_ms = 30000   # … up to this
//! queue = 256
//!
//! [notify.webhook]
//! url = "https://hooks.slack.com/services/…"
//! template = '{"text": "[{{severity}}] {{kind}}: {{message}}"}'   # unset: the alert as JSON
//! timeout_ms = 10000
//! headers = { Authorization = "Bearer …" }
//!
//! [notify.syslog]
//! address = "127.0.0.1:514"
//! transport = "udp"              # or "tcp" (octet-counting framing)
//! facility = "local0"            # a name or a number 0–23
//! app_name = "wirewatch"
//! hostname = "sensor-1"          # unset: this machine's host name
//! timeout_ms = 10000
//!
//! [notify.email]
//! smtp_host = "smtp.example.org"
//! smtp_port = 587                # unset: 587 with STARTTLS, 25 without
//! starttls = true
//! username = "wirewatch"
//! password = "…"
//! from = "Wirewatch <wirewatch@example.org>"
//! to = ["ops@example.org"]
//! subject_prefix = "[wirewatch]"
//! timeout_ms = 10000
//! ```

pub mod channel;
pub mod config;
mod email;
pub mod error;
mod limiter;
pub mod notifier;
pub mod syslog;
pub mod template;
mod timefmt;
mod webhook;

pub use channel::ChannelKind;
pub use config::{
    EmailConfig, Facility, NotifyConfig, SyslogConfig, SyslogTransport, WebhookConfig,
};
pub use error::{DeliveryError, NotifyError};
pub use notifier::{ChannelCounts, Notifier, NotifyStats, NotifyStatsHandle, Submitted, Timing};
