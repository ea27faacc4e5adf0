//! The channel abstraction the delivery thread drives: something that sends one alert and
//! says whether it arrived. Implementations (`webhook`, `syslog`, `email`) do their own I/O
//! with their own timeouts; retries, back-off and counting live in the notifier, once.

use crate::error::DeliveryError;
use wirewatch_core::Alert;

/// Which channel a count or an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// The JSON webhook.
    Webhook,
    /// Syslog (RFC 5424).
    Syslog,
    /// E-mail over SMTP.
    Email,
}

impl ChannelKind {
    /// `webhook`, `syslog` or `email`.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Syslog => "syslog",
            ChannelKind::Email => "email",
        }
    }
}

/// One way of delivering notifications.
pub(crate) trait Channel: Send {
    /// Which channel this is.
    fn kind(&self) -> ChannelKind;
    /// One attempt to deliver `alert`.
    fn send(&mut self, alert: &Alert) -> Result<(), DeliveryError>;
}
