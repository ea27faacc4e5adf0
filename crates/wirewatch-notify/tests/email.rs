//! The e-mail channel against a minimal SMTP sink written here (no TLS): envelope, headers
//! (From, To, Subject with prefix, severity and kind), plain-text body, and a retry after
//! the server refuses a message for a while.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{SmtpSink, alert, wait_for};
use wirewatch_core::Severity;
use wirewatch_notify::{EmailConfig, Notifier, NotifyConfig};

fn config(sink: &SmtpSink) -> NotifyConfig {
    NotifyConfig {
        retries: 2,
        retry_backoff_ms: 20,
        retry_backoff_max_ms: 50,
        email: Some(EmailConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port: Some(sink.addr.port()),
            starttls: false,
            from: "Wirewatch <ww@example.org>".into(),
            to: vec!["ops@example.org".into(), "sec@example.org".into()],
            subject_prefix: "[ww-test]".into(),
            timeout_ms: 2_000,
            ..EmailConfig::default()
        }),
        ..NotifyConfig::default()
    }
}

#[test]
fn sends_a_plain_text_mail_with_the_alert() {
    let sink = SmtpSink::start(0);
    let notifier = Notifier::start(config(&sink)).unwrap();
    let a = alert(31, Severity::Critical, "SYN flood towards 10.0.0.5");
    notifier.notify(&a, true);
    wait_for("the mail", || notifier.stats().sent.email == 1);

    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.mail_from, "<ww@example.org>");
    assert_eq!(m.rcpt_to, ["<ops@example.org>", "<sec@example.org>"]);
    assert_eq!(m.header("From").unwrap(), "Wirewatch <ww@example.org>");
    assert_eq!(m.header("To").unwrap(), "ops@example.org, sec@example.org");
    assert_eq!(
        m.header("Subject").unwrap(),
        "[ww-test] [critical] syn_flood: SYN flood towards 10.0.0.5"
    );
    assert!(m.header("Content-Type").unwrap().starts_with("text/plain"));
    assert!(m.header("Date").is_some());
    let body = m.body().replace("\r\n", "\n");
    for want in [
        "Wirewatch alert #31: syn_flood\n",
        "Severity:    critical\n",
        "Confidence:  0.90\n",
        "First seen:  2017-01-17T17:10:25.976Z\n",
        "Sources:     192.0.2.1, 192.0.2.2\n",
        "Targets:     10.0.0.5\n",
        "Ports:       80, 443\n",
        "\nSYN flood towards 10.0.0.5\n",
        "Recommended action:\nEnable SYN cookies.\n",
        "\"syn_rate\": 5000.0",
    ] {
        assert!(body.contains(want), "missing {want:?} in:\n{body}");
    }
}

#[test]
fn a_temporary_refusal_is_retried() {
    let sink = SmtpSink::start(2);
    let notifier = Notifier::start(config(&sink)).unwrap();
    notifier.notify(&alert(1, Severity::High, "retry me"), true);
    wait_for("the mail", || notifier.stats().sent.email == 1);
    let stats = notifier.stats();
    assert_eq!(stats.retried, 2);
    assert_eq!(stats.failed, 0);
    assert_eq!(sink.mails().len(), 1);
    let err = stats.last_error.unwrap();
    assert!(
        err.contains("127.0.0.1") && err.contains("try again later"),
        "{err}"
    );
}

#[test]
fn filtered_alerts_send_no_mail() {
    let sink = SmtpSink::start(0);
    let mut notifier = Notifier::start(config(&sink)).unwrap();
    notifier.notify(&alert(1, Severity::Medium, "below the minimum"), true);
    notifier.notify(&alert(2, Severity::Critical, "an update"), false);
    let stats = notifier.shutdown();
    assert_eq!(stats.filtered, 2);
    assert_eq!(stats.sent.email, 0);
    assert!(sink.mails().is_empty());
}

#[test]
fn a_permanent_refusal_is_not_retried() {
    let sink = SmtpSink::start_refusing(1, "550 5.7.1 sender not allowed");
    let notifier = Notifier::start(config(&sink)).unwrap();
    notifier.notify(&alert(1, Severity::High, "refused"), true);
    wait_for("the give-up", || notifier.stats().failed == 1);
    let stats = notifier.stats();
    assert_eq!((stats.retried, stats.sent.email), (0, 0));
    assert!(stats.last_error.unwrap().contains("sender not allowed"));
}

#[test]
fn starttls_required_but_not_offered_sends_nothing() {
    let sink = SmtpSink::start(0);
    let mut cfg = config(&sink);
    let email = cfg.email.as_mut().unwrap();
    email.starttls = true;
    email.username = Some("ww".into());
    email.password = Some("hunter2".into());
    cfg.retries = 0;
    let notifier = Notifier::start(cfg).unwrap();
    notifier.notify(&alert(1, Severity::High, "secret"), true);
    wait_for("the give-up", || notifier.stats().failed == 1);
    assert!(sink.mails().is_empty(), "no mail without the TLS upgrade");
    let err = notifier.stats().last_error.unwrap();
    assert!(
        err.contains("127.0.0.1:") && err.contains("STARTTLS"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
}
