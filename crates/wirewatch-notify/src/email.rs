//! The e-mail channel: one plain-text message per notification over SMTP (lettre), with
//! STARTTLS required when configured (no credentials or mail are sent if the server does not
//! offer it) and certificates checked against the web PKI roots. The subject is
//! `PREFIX [severity] kind: message`; the body lists the alert's fields, its message, the
//! recommendation and the evidence. One connection per message (no pool): notifications are
//! rare and a kept-open SMTP session would time out between them.

use crate::channel::{Channel, ChannelKind};
use crate::config::EmailConfig;
use crate::error::{DeliveryError, NotifyError};
use crate::template::join;
use crate::timefmt::rfc3339_millis;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};
use std::fmt::Write as _;
use std::time::Duration;
use wirewatch_core::Alert;

/// Most characters of the alert message put in the subject: mail clients show about this
/// much; the whole message is in the body.
const MAX_SUBJECT_MESSAGE_CHARS: usize = 100;

/// Sends notifications by e-mail.
pub(crate) struct Email {
    transport: SmtpTransport,
    host: String,
    port: u16,
    from: Mailbox,
    to: Vec<Mailbox>,
    subject_prefix: String,
}

impl Email {
    /// A channel for `config` (validated first). Nothing is connected until the first message.
    pub(crate) fn new(config: &EmailConfig) -> Result<Self, NotifyError> {
        config.validate()?;
        let host = config.smtp_host.trim().to_string();
        let port = config.port();
        let tls = if config.starttls {
            let params = TlsParameters::new(host.clone()).map_err(|e| NotifyError::Tls {
                host: host.clone(),
                message: e.to_string(),
            })?;
            Tls::Required(params)
        } else {
            Tls::None
        };
        let mut builder = SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(config.timeout_ms)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Email {
            transport: builder.build(),
            host,
            port,
            from: config.sender_mailbox()?,
            to: config.recipient_mailboxes()?,
            subject_prefix: config.subject_prefix.trim().to_string(),
        })
    }

    /// The message for `alert`.
    pub(crate) fn message(&self, alert: &Alert) -> Result<Message, DeliveryError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject(&self.subject_prefix, alert))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder.body(body(alert)).map_err(|e| DeliveryError::Build {
            channel: "email",
            message: e.to_string(),
        })
    }
}

/// `PREFIX [severity] kind: message` (the message's first characters, on one line).
pub(crate) fn subject(prefix: &str, alert: &Alert) -> String {
    let mut s = String::new();
    if !prefix.is_empty() {
        s.push_str(prefix);
        s.push(' ');
    }
    let _ = write!(s, "[{}] {}: ", alert.severity.name(), one_line(&alert.kind));
    let message = one_line(&alert.message);
    let mut cut: String = message.chars().take(MAX_SUBJECT_MESSAGE_CHARS).collect();
    if cut.len() < message.len() {
        cut.push('…');
    }
    s.push_str(&cut);
    s
}

/// `s` with control characters (line breaks included) replaced by spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The plain-text body.
pub(crate) fn body(alert: &Alert) -> String {
    let mut b = String::new();
    let none = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let _ = writeln!(
        b,
        "Wirewatch alert #{}: {}",
        alert.id,
        one_line(&alert.kind)
    );
    let _ = writeln!(b);
    let _ = writeln!(b, "Severity:    {}", alert.severity.name());
    let _ = writeln!(b, "Confidence:  {:.2}", alert.confidence);
    let _ = writeln!(b, "First seen:  {}", rfc3339_millis(alert.start_ts));
    let _ = writeln!(b, "Last seen:   {}", rfc3339_millis(alert.last_ts));
    let _ = writeln!(b, "Updates:     {}", alert.updates);
    let _ = writeln!(b, "Sources:     {}", none(join(&alert.sources)));
    let _ = writeln!(b, "Targets:     {}", none(join(&alert.targets)));
    let _ = writeln!(b, "Ports:       {}", none(join(&alert.ports)));
    let _ = writeln!(b);
    let _ = writeln!(b, "{}", alert.message);
    if !alert.recommendation.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Recommended action:");
        let _ = writeln!(b, "{}", alert.recommendation);
    }
    if !alert.evidence.is_null() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Evidence:");
        let evidence = serde_json::to_string_pretty(&alert.evidence).unwrap_or_default();
        let _ = writeln!(b, "{evidence}");
    }
    b
}

impl Channel for Email {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn send(&mut self, alert: &Alert) -> Result<(), DeliveryError> {
        let message = self.message(alert)?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| DeliveryError::Smtp {
                host: self.host.clone(),
                port: self.port,
                message: e.to_string(),
                permanent: e.is_permanent(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::{Severity, Timestamp};

    fn alert() -> Alert {
        Alert {
            id: 3,
            kind: "syn_flood".into(),
            severity: Severity::Critical,
            confidence: 0.875,
            start_ts: Timestamp::from_secs_nanos(1_484_673_025, 0),
            last_ts: Timestamp::from_secs_nanos(1_484_673_085, 0),
            updates: 4,
            sources: vec![],
            targets: vec!["10.0.0.5".parse().unwrap()],
            ports: vec![80, 443],
            message: "SYN flood\r\nBcc: evil@example.org".into(),
            recommendation: "Enable SYN cookies.".into(),
            evidence: serde_json::json!({"syn_rate": 5000}),
        }
    }

    #[test]
    fn subject_is_one_line_with_prefix_severity_and_kind() {
        assert_eq!(
            subject("[ww]", &alert()),
            "[ww] [critical] syn_flood: SYN flood  Bcc: evil@example.org"
        );
        let mut a = alert();
        a.message = "x".repeat(300);
        assert!(subject("", &a).ends_with("x…"));
        assert!(subject("", &a).starts_with("[critical]"));
    }

    #[test]
    fn body_lists_the_fields() {
        let b = body(&alert());
        for want in [
            "Wirewatch alert #3: syn_flood",
            "Severity:    critical",
            "Confidence:  0.88",
            "First seen:  2017-01-17T17:10:25.000Z",
            "Sources:     -",
            "Targets:     10.0.0.5",
            "Ports:       80, 443",
            "Enable SYN cookies.",
            "\"syn_rate\": 5000",
        ] {
            assert!(b.contains(want), "missing {want:?} in {b}");
        }
    }
}
