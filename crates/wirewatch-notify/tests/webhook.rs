//! The webhook channel against a local HTTP server: body content (default JSON and a
//! Slack-style template), severity filter, rate limit with its summary, retries after
//! receiver failures, queue and shutdown behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{HttpServer, alert, free_port, wait_for};
use std::time::{Duration, Instant};
use wirewatch_core::Severity;
use wirewatch_notify::notifier::SUMMARY_KIND;
use wirewatch_notify::{Notifier, NotifyConfig, Submitted, Timing, WebhookConfig};

fn config(url: String) -> NotifyConfig {
    NotifyConfig {
        retries: 3,
        retry_backoff_ms: 20,
        retry_backoff_max_ms: 100,
        webhook: Some(WebhookConfig {
            url,
            timeout_ms: 2_000,
            ..WebhookConfig::default()
        }),
        ..NotifyConfig::default()
    }
}

#[test]
fn default_body_is_the_alert_as_json_with_configured_headers() {
    let server = HttpServer::start(&[]);
    let mut cfg = config(server.url("/hooks/abc"));
    cfg.webhook
        .as_mut()
        .unwrap()
        .headers
        .insert("X-Token".into(), "s3cret".into());
    let notifier = Notifier::start(cfg).unwrap();
    let a = alert(42, Severity::High, "SYN flood towards 10.0.0.5: 5000 SYN/s");
    assert_eq!(notifier.notify(&a, true), Submitted::Queued);
    wait_for("one delivery", || notifier.stats().sent.webhook == 1);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/abc");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["x-token"], "s3cret");
    assert!(r.headers["user-agent"].starts_with("wirewatch/"));
    assert_eq!(r.json(), serde_json::to_value(&a).unwrap());
    let stats = notifier.stats();
    assert_eq!((stats.failed, stats.retried), (0, 0));
}

#[test]
fn slack_style_template_is_rendered_with_escaping() {
    let server = HttpServer::start(&[]);
    let mut cfg = config(server.url("/slack"));
    cfg.webhook.as_mut().unwrap().template =
        Some(r#"{"text": "[{{severity}}] {{kind}}: {{message}}", "id": {{id}}}"#.into());
    let notifier = Notifier::start(cfg).unwrap();
    let message = "host \"db\" said:\nline two\\ and {{kind}}\ttab";
    notifier.notify(&alert(7, Severity::Critical, message), true);
    wait_for("one delivery", || server.count() == 1);

    let body = server.requests()[0].json();
    assert_eq!(
        body["text"],
        format!("[critical] syn_flood: {message}"),
        "the message comes back intact, its {{{{kind}}}} not expanded"
    );
    assert_eq!(body["id"], 7);
}

#[test]
fn severity_filter_and_openings_only() {
    let server = HttpServer::start(&[]);
    let notifier = Notifier::start(config(server.url("/"))).unwrap();
    assert_eq!(
        notifier.notify(&alert(1, Severity::Low, "low"), true),
        Submitted::Filtered
    );
    assert_eq!(
        notifier.notify(&alert(2, Severity::Medium, "medium"), true),
        Submitted::Filtered
    );
    assert_eq!(
        notifier.notify(&alert(3, Severity::High, "an update"), false),
        Submitted::Filtered
    );
    assert_eq!(
        notifier.notify(&alert(4, Severity::High, "high"), true),
        Submitted::Queued
    );
    assert_eq!(
        notifier.notify(&alert(5, Severity::Critical, "critical"), true),
        Submitted::Queued
    );
    wait_for("two deliveries", || notifier.stats().sent.webhook == 2);
    let ids: Vec<u64> = server
        .requests()
        .iter()
        .map(|r| r.json()["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [4, 5]);
    assert_eq!(notifier.stats().filtered, 3);

    // A lower minimum lets a low alert through.
    let server = HttpServer::start(&[]);
    let mut cfg = config(server.url("/"));
    cfg.min_severity = Severity::Low;
    let notifier = Notifier::start(cfg).unwrap();
    assert_eq!(
        notifier.notify(&alert(1, Severity::Low, "low"), true),
        Submitted::Queued
    );
    wait_for("one delivery", || server.count() == 1);
}

#[test]
fn rate_limit_drops_the_excess_and_sends_one_summary_when_the_window_reopens() {
    let server = HttpServer::start(&[]);
    let mut cfg = config(server.url("/"));
    cfg.max_per_minute = 5;
    let window = Duration::from_secs(2);
    let notifier = Notifier::start_with_timing(
        cfg,
        Timing {
            rate_window: window,
            ..Timing::default()
        },
    )
    .unwrap();
    let start = Instant::now();
    for i in 0..20 {
        assert_eq!(
            notifier.notify(&alert(i, Severity::High, "flood"), true),
            Submitted::Queued
        );
    }
    wait_for("the rate-limit drops", || {
        notifier.stats().dropped_rate_limit == 15
    });
    let stats = notifier.stats();
    assert_eq!(stats.sent.webhook, 5);
    assert!(
        start.elapsed() < window,
        "the test needs the 20 alerts handled within one window"
    );

    wait_for("the summary", || server.count() == 6);
    let requests = server.requests();
    let ids: Vec<u64> = requests[..5]
        .iter()
        .map(|r| r.json()["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2, 3, 4], "the first five go out");
    let summary = requests[5].json();
    assert_eq!(summary["kind"], SUMMARY_KIND);
    assert!(
        summary["message"]
            .as_str()
            .unwrap()
            .starts_with("15 notifications suppressed by the rate limit (at most 5 per"),
        "{summary}"
    );
    assert_eq!(summary["evidence"]["suppressed"], 15);
    assert!(start.elapsed() >= window);
    let stats = notifier.stats();
    assert_eq!((stats.summaries, stats.sent.webhook), (1, 6));

    // Only one summary: nothing more arrives. Deliberate: a whole window (and some) must
    // pass to prove that no second summary is sent.
    std::thread::sleep(window + Duration::from_millis(200));
    assert_eq!(server.count(), 6);
}

#[test]
fn retries_after_server_errors_then_delivers_once() {
    let server = HttpServer::start(&[500, 500]);
    let notifier = Notifier::start(config(server.url("/"))).unwrap();
    notifier.notify(&alert(9, Severity::High, "x"), true);
    wait_for("the delivery", || notifier.stats().sent.webhook == 1);
    let stats = notifier.stats();
    assert_eq!(stats.retried, 2);
    assert_eq!(stats.failed, 0);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    let err = stats.last_error.unwrap();
    assert!(
        err.contains("HTTP 500") && err.contains("127.0.0.1"),
        "{err}"
    );
}

#[test]
fn a_receiver_that_comes_up_later_gets_the_alert_after_a_retry() {
    let port = free_port();
    let mut cfg = config(format!("http://127.0.0.1:{port}/late"));
    cfg.retries = 5;
    cfg.retry_backoff_ms = 200;
    cfg.retry_backoff_max_ms = 400;
    let notifier = Notifier::start(cfg).unwrap();
    notifier.notify(&alert(5, Severity::High, "late"), true);
    wait_for("a failed first attempt", || {
        notifier.stats().last_error.is_some()
    });
    assert_eq!(notifier.stats().sent.webhook, 0);
    let server = HttpServer::start_on(port, &[]);
    wait_for("the delivery", || notifier.stats().sent.webhook == 1);
    let stats = notifier.stats();
    assert!(stats.retried >= 1, "{stats:?}");
    assert_eq!(stats.failed, 0);
    assert_eq!(server.requests()[0].json()["id"], 5);
    assert!(
        stats
            .last_error
            .unwrap()
            .contains("cannot reach the webhook"),
        "the refused connection was remembered"
    );
}

#[test]
fn client_errors_are_not_retried_and_failures_are_counted() {
    let server = HttpServer::start(&[400, 301, 503, 503, 503, 503]);
    let mut cfg = config(server.url("/"));
    cfg.retries = 3;
    let notifier = Notifier::start(cfg).unwrap();
    notifier.notify(&alert(1, Severity::High, "bad request"), true);
    wait_for("the give-up", || notifier.stats().failed == 1);
    assert_eq!(notifier.stats().retried, 0, "a 400 is not retried");
    notifier.notify(&alert(3, Severity::High, "moved"), true);
    wait_for("the redirect give-up", || notifier.stats().failed == 2);
    assert_eq!(
        notifier.stats().retried,
        0,
        "a redirect is neither followed nor retried"
    );
    notifier.notify(&alert(2, Severity::High, "unavailable"), true);
    wait_for("the third give-up", || notifier.stats().failed == 3);
    let stats = notifier.stats();
    assert_eq!(stats.retried, 3);
    assert_eq!(stats.sent.webhook, 0);
    assert_eq!(server.count(), 6);
}

#[test]
fn a_full_queue_drops_and_counts() {
    // Nobody listens and the back-off is long, so the thread holds the first alert.
    let mut cfg = config(format!("http://127.0.0.1:{}/", free_port()));
    cfg.queue = 1;
    cfg.retries = 1;
    cfg.retry_backoff_ms = 2_000;
    cfg.retry_backoff_max_ms = 2_000;
    let mut notifier = Notifier::start_with_timing(
        cfg,
        Timing {
            shutdown_deadline: Duration::from_millis(100),
            ..Timing::default()
        },
    )
    .unwrap();
    let outcomes: Vec<Submitted> = (0..3)
        .map(|i| notifier.notify(&alert(i, Severity::High, "x"), true))
        .collect();
    let full = outcomes
        .iter()
        .filter(|o| **o == Submitted::QueueFull)
        .count();
    assert!(full >= 1, "{outcomes:?}");
    assert_eq!(notifier.stats().dropped_queue, full as u64);
    let started = Instant::now();
    let stats = notifier.shutdown();
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "shutdown does not sit out a back-off that ends after its deadline"
    );
    assert_eq!(stats.sent.webhook, 0);
    assert_eq!(stats.failed + stats.dropped_shutdown, 3 - full as u64);
    assert_eq!(
        notifier.notify(&alert(9, Severity::High, "x"), true),
        Submitted::Stopped
    );
}

#[test]
fn shutdown_delivers_what_is_queued() {
    let server = HttpServer::start(&[]);
    let mut notifier = Notifier::start(config(server.url("/"))).unwrap();
    for i in 0..4 {
        notifier.notify(&alert(i, Severity::High, "x"), true);
    }
    let stats = notifier.shutdown();
    assert_eq!(stats.sent.webhook, 4);
    assert_eq!(server.count(), 4);
    assert_eq!(notifier.shutdown(), stats, "shutdown is idempotent");
}
