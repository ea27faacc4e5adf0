//! Error types: [`NotifyError`] for setting the notifier up (a bad setting, a thread that
//! cannot start) and [`DeliveryError`] for one failed attempt to reach a receiver, which the
//! background thread counts, retries when retrying can help, and remembers as the last error.
//! Messages name the setting or the receiver and say what to do; they never carry a password,
//! a header value or a webhook's secret path.

/// What went wrong setting the notifier up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A setting is invalid.
    #[error("invalid notification setting `{setting}`: {message}")]
    Config {
        /// The setting, e.g. `notify.webhook.url`.
        setting: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The TLS parameters for the SMTP server could not be built.
    #[error("cannot set up TLS for the SMTP server {host}: {message}")]
    Tls {
        /// The server's host name.
        host: String,
        /// The TLS library's message.
        message: String,
    },
    /// The background delivery thread could not be started.
    #[error("cannot start the notification thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// One failed attempt to deliver a notification through one channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The webhook answered with a status other than 2xx.
    #[error("the webhook {url} answered HTTP {status}: {detail}")]
    HttpStatus {
        /// The webhook's address without its path (which often holds a secret).
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body, control characters removed.
        detail: String,
    },
    /// The webhook could not be reached (connection refused, timeout, TLS failure).
    #[error("cannot reach the webhook {url}: {message}")]
    Http {
        /// The webhook's address without its path.
        url: String,
        /// The HTTP client's message.
        message: String,
    },
    /// The syslog receiver could not be reached or written to.
    #[error("cannot send to the syslog receiver {address} ({transport}): {message}")]
    Syslog {
        /// The configured `host:port`.
        address: String,
        /// `udp` or `tcp`.
        transport: &'static str,
        /// The operating system's message.
        message: String,
    },
    /// The SMTP server refused the message or could not be reached.
    #[error("cannot send e-mail through {host}:{port}: {message}")]
    Smtp {
        /// The SMTP server.
        host: String,
        /// Its port.
        port: u16,
        /// The SMTP client's message.
        message: String,
        /// The server refused for good (a 5xx answer such as an unknown recipient), so
        /// trying again cannot help.
        permanent: bool,
    },
    /// The message could not be built from the alert (a template or address problem).
    #[error("cannot build the {channel} message: {message}")]
    Build {
        /// `webhook`, `syslog` or `email`.
        channel: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl DeliveryError {
    /// Whether trying again can help: a refused connection, an HTTP 5xx, 408 (timeout) or 429
    /// (too many requests) or an SMTP 4xx may pass later; any other HTTP status (another 4xx,
    /// a redirect), an SMTP 5xx or a message that cannot be built will fail the same way
    /// every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeliveryError::HttpStatus { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            DeliveryError::Smtp { permanent, .. } => !permanent,
            DeliveryError::Build { .. } => false,
            DeliveryError::Http { .. } | DeliveryError::Syslog { .. } => true,
        }
    }
}
