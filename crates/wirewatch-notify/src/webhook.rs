//! The JSON webhook channel: one HTTP POST per notification, the body rendered from the
//! configured [`Template`] or, without one, the alert itself as JSON. Any 2xx answer is a
//! delivery; anything else is a [`DeliveryError`] (retried by the notifier when it can help).
//! Redirects are not followed: they would carry the body and the headers elsewhere.
//! Error messages show the address without its path, which often holds the hook's secret.

use crate::channel::{Channel, ChannelKind};
use crate::config::{WebhookConfig, redact_url};
use crate::error::{DeliveryError, NotifyError};
use crate::template::Template;
use std::time::Duration;
use wirewatch_core::Alert;

/// Most bytes of an answer read: enough for an error text, and reading it lets the
/// connection be reused.
const MAX_ANSWER_BYTES: u64 = 4 * 1024;
/// Most characters of an error answer kept in the error message: enough to recognise the
/// receiver's complaint, short enough for a status line.
const MAX_DETAIL_CHARS: usize = 200;

/// Posts notifications to one webhook.
pub(crate) struct Webhook {
    agent: ureq::Agent,
    url: String,
    shown_url: String,
    template: Option<Template>,
    headers: Vec<(String, String)>,
}

impl Webhook {
    /// A channel for `config` (validated first).
    pub(crate) fn new(config: &WebhookConfig) -> Result<Self, NotifyError> {
        config.validate()?;
        let template = match &config.template {
            Some(t) => Some(Template::parse(t).map_err(|message| NotifyError::Config {
                setting: "notify.webhook.template",
                message,
            })?),
            None => None,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Non-2xx answers are read and reported with their status, not opaque errors.
            .http_status_as_error(false)
            // A redirect would carry the body and the configured headers to another address;
            // a 3xx is reported instead, so the address gets fixed in the configuration.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_millis(config.timeout_ms)))
            .user_agent(concat!("wirewatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Webhook {
            agent,
            url: config.url.trim().to_string(),
            shown_url: redact_url(&config.url),
            template,
            headers: config
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// The body sent for `alert`.
    pub(crate) fn body(&self, alert: &Alert) -> Result<String, DeliveryError> {
        match &self.template {
            Some(t) => Ok(t.render(alert)),
            None => serde_json::to_string(alert).map_err(|e| DeliveryError::Build {
                channel: "webhook",
                message: e.to_string(),
            }),
        }
    }
}

impl Channel for Webhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    fn send(&mut self, alert: &Alert) -> Result<(), DeliveryError> {
        let body = self.body(alert)?;
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = request.send(&body).map_err(|e| DeliveryError::Http {
            url: self.shown_url.clone(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .lossy_utf8(true)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let detail: String = answer
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_DETAIL_CHARS)
            .collect();
        Err(DeliveryError::HttpStatus {
            url: self.shown_url.clone(),
            status,
            detail: if detail.trim().is_empty() {
                "no detail given".to_string()
            } else {
                detail.trim().to_string()
            },
        })
    }
}
