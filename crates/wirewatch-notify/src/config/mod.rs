//! The `[notify]` configuration: which alerts are sent, how fast, how often a failed delivery
//! is retried, and the three channels (webhook, syslog, e-mail). Every setting has a default
//! except the channels' addresses; [`NotifyConfig::validate`] checks everything once, naming
//! the setting and saying what is accepted. Nothing here does I/O.

use crate::error::NotifyError;
use crate::template::Template;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use wirewatch_core::Severity;

/// Default notifications per minute: enough for a few incidents at once, few enough that a
/// storm of alerts does not flood a chat channel or a mailbox.
pub const DEFAULT_MAX_PER_MINUTE: u32 = 10;
/// Upper bound of `max_per_minute`: ten a second is more than anyone reads; a consumer that
/// needs every alert should read the store or the alert log instead.
pub const MAX_PER_MINUTE_LIMIT: u32 = 600;
/// Default retries after a failed attempt (so four attempts in all).
pub const DEFAULT_RETRIES: u32 = 3;
/// Upper bound of `retries`: with the doubling back-off capped at a minute, more retries only
/// hold the queue behind an alert that is already stale.
pub const MAX_RETRIES: u32 = 10;
/// Default wait before the first retry; each later wait doubles.
pub const DEFAULT_RETRY_BACKOFF_MS: u64 = 1_000;
/// Default cap of the doubling wait between retries.
pub const DEFAULT_RETRY_BACKOFF_MAX_MS: u64 = 30_000;
/// Upper bound of either back-off setting: five minutes; a longer wait makes the alert stale
/// and holds every queued alert behind it.
pub const MAX_BACKOFF_MS: u64 = 300_000;
/// Default depth of the queue between the engine and the delivery thread: 256 alerts is many
/// minutes of the default rate, so only a long receiver outage fills it.
pub const DEFAULT_QUEUE: usize = 256;
/// Upper bound of `queue`: each entry holds an alert with its evidence (a few KiB), so 4096
/// entries stay within a few tens of MiB.
pub const MAX_QUEUE: usize = 4_096;
/// Default whole-request timeout of one delivery attempt: receivers answer in well under a
/// second; 10 s rides out a slow one without holding the queue for long.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Upper bound of any `timeout_ms`: two minutes; a receiver slower than that is down.
pub const MAX_TIMEOUT_MS: u64 = 120_000;
/// Most webhook headers accepted: real hooks need one or two (authorization, a tenant id).
pub const MAX_HEADERS: usize = 32;
/// Most e-mail recipients: a notification goes to a team address or a few people, not a list.
pub const MAX_RECIPIENTS: usize = 50;
/// Longest template accepted, in bytes: a chat message layout fits in a few hundred.
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// RFC 5424 §6.2.5: APP-NAME is at most 48 printable ASCII characters.
pub const MAX_APP_NAME: usize = 48;
/// RFC 5424 §6.2.4: HOSTNAME is at most 255 printable ASCII characters.
pub const MAX_HOSTNAME: usize = 255;
/// Longest e-mail subject prefix: the subject also carries severity, kind and message.
pub const MAX_SUBJECT_PREFIX: usize = 64;
/// The default syslog facility: local0, the first facility reserved for local use.
pub const DEFAULT_FACILITY: u8 = 16;
/// SMTP submission port, used by default with STARTTLS (RFC 6409).
pub const SUBMISSION_PORT: u16 = 587;
/// Plain SMTP port, used by default without STARTTLS (a local relay).
pub const SMTP_PORT: u16 = 25;

/// Everything the notifier needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Alerts below this severity are not sent.
    pub min_severity: Severity,
    /// Notifications per minute; more are dropped and counted, and one summary saying how
    /// many were suppressed goes out when the next minute opens.
    pub max_per_minute: u32,
    /// Retries of a failed delivery (per channel), after the first attempt.
    pub retries: u32,
    /// Wait before the first retry, in milliseconds; each later wait doubles.
    pub retry_backoff_ms: u64,
    /// Cap of the doubling wait between retries, in milliseconds.
    pub retry_backoff_max_ms: u64,
    /// Depth of the queue feeding the delivery thread; a full queue drops and counts.
    pub queue: usize,
    /// A JSON webhook (Slack, Teams, Discord or any HTTP endpoint).
    pub webhook: Option<WebhookConfig>,
    /// A syslog receiver (RFC 5424).
    pub syslog: Option<SyslogConfig>,
    /// E-mail over SMTP.
    pub email: Option<EmailConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            min_severity: Severity::High,
            max_per_minute: DEFAULT_MAX_PER_MINUTE,
            retries: DEFAULT_RETRIES,
            retry_backoff_ms: DEFAULT_RETRY_BACKOFF_MS,
            retry_backoff_max_ms: DEFAULT_RETRY_BACKOFF_MAX_MS,
            queue: DEFAULT_QUEUE,
            webhook: None,
            syslog: None,
            email: None,
        }
    }
}

/// An HTTP endpoint that receives one JSON POST per notification.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` or `https://` address.
    pub url: String,
    /// The JSON body with `{{placeholders}}` (see [`crate::template`]); unset: the alert
    /// itself as JSON.
    pub template: Option<String>,
    /// Extra request headers (e.g. `Authorization`). Values are never printed.
    pub headers: BTreeMap<String, String>,
    /// Whole-request timeout of one attempt, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: String::new(),
            template: None,
            headers: BTreeMap::new(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &redact_url(&self.url))
            .field("template", &self.template)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// One datagram per message (RFC 5426).
    #[default]
    Udp,
    /// A kept-open connection, messages framed by octet counting (RFC 6587 §3.4.1).
    Tcp,
}

impl SyslogTransport {
    /// `udp` or `tcp`.
    pub fn name(self) -> &'static str {
        match self {
            SyslogTransport::Udp => "udp",
            SyslogTransport::Tcp => "tcp",
        }
    }
}

/// Facility names of RFC 5424 §6.2.1 table 1, indexed by code (codes 0–23).
pub const FACILITY_NAMES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// A syslog facility (0–23), written in the configuration as a name (`local0`) or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FacilityRepr", into = "FacilityRepr")]
pub struct Facility(u8);

impl Facility {
    /// The facility with `code`, if it is 0–23.
    pub fn from_code(code: u8) -> Option<Facility> {
        (usize::from(code) < FACILITY_NAMES.len()).then_some(Facility(code))
    }

    /// The facility named `name` (case-insensitive), if there is one.
    pub fn from_name(name: &str) -> Option<Facility> {
        let name = name.trim().to_ascii_lowercase();
        FACILITY_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u8::try_from(i).ok())
            .map(Facility)
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The name, e.g. `local0`.
    pub fn name(self) -> &'static str {
        FACILITY_NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("local0")
    }
}

impl Default for Facility {
    fn default() -> Self {
        Facility(DEFAULT_FACILITY)
    }
}

/// How a facility is written in the configuration.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FacilityRepr {
    Code(u8),
    Name(String),
}

impl TryFrom<FacilityRepr> for Facility {
    type Error = String;

    fn try_from(repr: FacilityRepr) -> Result<Self, Self::Error> {
        match repr {
            FacilityRepr::Code(c) => {
                Facility::from_code(c).ok_or_else(|| format!("syslog facility {c} is not 0–23"))
            }
            FacilityRepr::Name(n) => Facility::from_name(&n).ok_or_else(|| {
                format!(
                    "unknown syslog facility {n:?}; use one of {} or a number 0–23",
                    FACILITY_NAMES.join(", ")
                )
            }),
        }
    }
}

impl From<Facility> for FacilityRepr {
    fn from(f: Facility) -> Self {
        FacilityRepr::Name(f.name().to_string())
    }
}

/// A syslog receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogConfig {
    /// `host:port` of the receiver (e.g. `127.0.0.1:514`, `[::1]:6514`, `logs.example:514`).
    pub address: String,
    /// `udp` (default) or `tcp`.
    pub transport: SyslogTransport,
    /// The facility (default `local0`).
    pub facility: Facility,
    /// The APP-NAME field.
    pub app_name: String,
    /// The HOSTNAME field; unset: this machine's host name.
    pub hostname: Option<String>,
    /// Connect and write timeout (TCP), in milliseconds.
    pub timeout_ms: u64,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            address: String::new(),
            transport: SyslogTransport::Udp,
            facility: Facility::default(),
            app_name: "wirewatch".to_string(),
            hostname: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

/// E-mail over SMTP.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name (also the name its TLS certificate is checked against).
    pub smtp_host: String,
    /// The SMTP port; unset: 587 with STARTTLS, 25 without.
    pub smtp_port: Option<u16>,
    /// Upgrade the connection with STARTTLS before anything else is sent, and refuse to send
    /// if the server does not offer it (default on).
    pub starttls: bool,
    /// The login, if the server wants one (with `password`).
    pub username: Option<String>,
    /// The password. Never printed.
    pub password: Option<String>,
    /// The sender, e.g. `Wirewatch <wirewatch@example.org>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Put before every subject.
    pub subject_prefix: String,
    /// Timeout of each SMTP command, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp_host: String::new(),
            smtp_port: None,
            starttls: true,
            username: None,
            password: None,
            from: String::new(),
            to: Vec::new(),
            subject_prefix: "[wirewatch]".to_string(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("starttls", &self.starttls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from)
            .field("to", &self.to)
            .field("subject_prefix", &self.subject_prefix)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl EmailConfig {
    /// The port in force: the configured one, else 587 with STARTTLS and 25 without.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(if self.starttls {
            SUBMISSION_PORT
        } else {
            SMTP_PORT
        })
    }
}

/// Shorthand for a configuration error.
fn bad<T>(setting: &'static str, message: impl Into<String>) -> Result<T, NotifyError> {
    Err(NotifyError::Config {
        setting,
        message: message.into(),
    })
}

/// Checks a timeout in milliseconds.
fn check_timeout(setting: &'static str, ms: u64) -> Result<(), NotifyError> {
    if ms == 0 || ms > MAX_TIMEOUT_MS {
        return bad(
            setting,
            format!("{ms} ms is outside 1–{MAX_TIMEOUT_MS} ms; a few seconds is usual"),
        );
    }
    Ok(())
}

/// Whether `s` is 1–`max` printable US-ASCII characters without spaces (RFC 5424 header
/// fields).
fn is_print_ascii(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| (33..=126).contains(&b))
}

impl NotifyConfig {
    /// Checks every setting; the error names the setting and says what is accepted.
    pub fn validate(&self) -> Result<(), NotifyError> {
        if self.max_per_minute == 0 || self.max_per_minute > MAX_PER_MINUTE_LIMIT {
            return bad(
                "notify.max_per_minute",
                format!(
                    "{} is outside 1–{MAX_PER_MINUTE_LIMIT}; to send nothing, remove the \
                     [notify] section",
                    self.max_per_minute
                ),
            );
        }
        if self.retries > MAX_RETRIES {
            return bad(
                "notify.retries",
                format!("{} is more than {MAX_RETRIES}", self.retries),
            );
        }
        if self.retry_backoff_ms == 0 || self.retry_backoff_ms > MAX_BACKOFF_MS {
            return bad(
                "notify.retry_backoff_ms",
                format!(
                    "{} ms is outside 1–{MAX_BACKOFF_MS} ms",
                    self.retry_backoff_ms
                ),
            );
        }
        if self.retry_backoff_max_ms < self.retry_backoff_ms
            || self.retry_backoff_max_ms > MAX_BACKOFF_MS
        {
            return bad(
                "notify.retry_backoff_max_ms",
                format!(
                    "{} ms must be at least retry_backoff_ms ({} ms) and at most \
                     {MAX_BACKOFF_MS} ms",
                    self.retry_backoff_max_ms, self.retry_backoff_ms
                ),
            );
        }
        if self.queue == 0 || self.queue > MAX_QUEUE {
            return bad(
                "notify.queue",
                format!("{} is outside 1–{MAX_QUEUE}", self.queue),
            );
        }
        if self.webhook.is_none() && self.syslog.is_none() && self.email.is_none() {
            return bad(
                "notify",
                "no channel is configured; add [notify.webhook], [notify.syslog] or \
                 [notify.email], or remove the [notify] section",
            );
        }
        if let Some(w) = &self.webhook {
            w.validate()?;
        }
        if let Some(s) = &self.syslog {
            s.validate()?;
        }
        if let Some(e) = &self.email {
            e.validate()?;
        }
        Ok(())
    }

    /// The wait before the first retry.
    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    /// The cap of the wait between retries.
    pub fn retry_backoff_max(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_max_ms)
    }
}

impl WebhookConfig {
    /// Checks the address, the template, the headers and the timeout.
    pub fn validate(&self) -> Result<(), NotifyError> {
        let url = self.url.trim();
        let uri = url.parse::<ureq::http::Uri>().ok();
        let scheme_ok = uri
            .as_ref()
            .and_then(|u| u.scheme_str())
            .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
        let host_ok = uri
            .as_ref()
            .and_then(|u| u.host())
            .is_some_and(|h| !h.is_empty());
        if !scheme_ok || !host_ok {
            return bad(
                "notify.webhook.url",
                format!(
                    "{:?} is not an http:// or https:// address with a host, e.g. \
                     https://hooks.example.com/services/…",
                    redact_url(url)
                ),
            );
        }
        if let Some(t) = &self.template {
            if t.len() > MAX_TEMPLATE_BYTES {
                return bad(
                    "notify.webhook.template",
                    format!(
                        "{} bytes is more than the {MAX_TEMPLATE_BYTES} a template may have",
                        t.len()
                    ),
                );
            }
            Template::parse(t).map_err(|message| NotifyError::Config {
                setting: "notify.webhook.template",
                message,
            })?;
        }
        if self.headers.len() > MAX_HEADERS {
            return bad(
                "notify.webhook.headers",
                format!("{} headers is more than {MAX_HEADERS}", self.headers.len()),
            );
        }
        for (name, value) in &self.headers {
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !name_ok {
                return bad(
                    "notify.webhook.headers",
                    format!("{name:?} is not a valid HTTP header name"),
                );
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return bad(
                    "notify.webhook.headers",
                    format!("the value of header {name:?} holds control characters"),
                );
            }
        }
        check_timeout("notify.webhook.timeout_ms", self.timeout_ms)
    }
}

impl SyslogConfig {
    /// Checks the address form, the header fields and the timeout.
    pub fn validate(&self) -> Result<(), NotifyError> {
        let address = self.address.trim();
        let port_ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return bad(
                "notify.syslog.address",
                format!(
                    "{address:?} is not host:port, e.g. 127.0.0.1:514, [::1]:514 or \
                     logs.example.org:514"
                ),
            );
        }
        if !is_print_ascii(&self.app_name, MAX_APP_NAME) {
            return bad(
                "notify.syslog.app_name",
                format!(
                    "{:?} must be 1–{MAX_APP_NAME} printable ASCII characters without spaces \
                     (RFC 5424)",
                    self.app_name
                ),
            );
        }
        if let Some(h) = &self.hostname
            && !is_print_ascii(h, MAX_HOSTNAME)
        {
            return bad(
                "notify.syslog.hostname",
                format!(
                    "{h:?} must be 1–{MAX_HOSTNAME} printable ASCII characters without spaces \
                     (RFC 5424)"
                ),
            );
        }
        check_timeout("notify.syslog.timeout_ms", self.timeout_ms)
    }
}

impl EmailConfig {
    /// Checks the server, the addresses, the credentials and the timeout.
    pub fn validate(&self) -> Result<(), NotifyError> {
        let host = self.smtp_host.trim();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad(
                "notify.email.smtp_host",
                format!("{host:?} is not a host name, e.g. smtp.example.org"),
            );
        }
        if self.smtp_port == Some(0) {
            return bad("notify.email.smtp_port", "0 is not a port");
        }
        self.sender_mailbox()?;
        if self.to.is_empty() || self.to.len() > MAX_RECIPIENTS {
            return bad(
                "notify.email.to",
                format!(
                    "{} recipients; give 1–{MAX_RECIPIENTS} addresses",
                    self.to.len()
                ),
            );
        }
        self.recipient_mailboxes()?;
        match (&self.username, &self.password) {
            (Some(_), None) | (None, Some(_)) => {
                return bad(
                    "notify.email.username",
                    "give both username and password, or neither",
                );
            }
            (Some(_), Some(_)) if !self.starttls && !is_loopback_host(host) => {
                return bad(
                    "notify.email.starttls",
                    "a password would cross the network in clear text; set starttls = true \
                     (or use a relay on this machine)",
                );
            }
            _ => {}
        }
        if self.subject_prefix.len() > MAX_SUBJECT_PREFIX
            || self.subject_prefix.chars().any(char::is_control)
        {
            return bad(
                "notify.email.subject_prefix",
                format!("must be at most {MAX_SUBJECT_PREFIX} bytes without control characters"),
            );
        }
        check_timeout("notify.email.timeout_ms", self.timeout_ms)
    }

    /// The parsed sender.
    pub(crate) fn sender_mailbox(&self) -> Result<Mailbox, NotifyError> {
        self.from
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| NotifyError::Config {
                setting: "notify.email.from",
                message: format!(
                    "{:?} is not an e-mail address ({e}); e.g. Wirewatch <wirewatch@example.org>",
                    self.from
                ),
            })
    }

    /// The parsed recipients.
    pub(crate) fn recipient_mailboxes(&self) -> Result<Vec<Mailbox>, NotifyError> {
        self.to
            .iter()
            .map(|t| {
                t.trim()
                    .parse::<Mailbox>()
                    .map_err(|e| NotifyError::Config {
                        setting: "notify.email.to",
                        message: format!("{t:?} is not an e-mail address ({e})"),
                    })
            })
            .collect()
    }
}

/// Whether `host` names this machine (`localhost` or a loopback address).
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `url` without user information, path or query (webhook paths often hold the secret), e.g.
/// `https://hooks.slack.com/…`. Text that does not parse is replaced by a placeholder.
pub fn redact_url(url: &str) -> String {
    let Ok(uri) = url.trim().parse::<ureq::http::Uri>() else {
        return "<unparsable address>".to_string();
    };
    let scheme = uri.scheme_str().unwrap_or("?");
    let host = uri.host().unwrap_or("?");
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let has_path = uri.path_and_query().is_some_and(|p| p.as_str() != "/");
    format!(
        "{scheme}://{host}{port}/{}",
        if has_path { "…" } else { "" }
    )
}

#[cfg(test)]
mod tests;
