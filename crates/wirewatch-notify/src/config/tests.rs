//! Tests of the configuration: defaults, bounds, redaction, the TOML shape.

use super::*;

fn webhook() -> NotifyConfig {
    NotifyConfig {
        webhook: Some(WebhookConfig {
            url: "https://hooks.example.com/services/T000/B000/SECRET".to_string(),
            ..WebhookConfig::default()
        }),
        ..NotifyConfig::default()
    }
}

fn err_setting(c: &NotifyConfig) -> &'static str {
    match c.validate() {
        Err(NotifyError::Config { setting, .. }) => setting,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn defaults_need_a_channel() {
    assert_eq!(err_setting(&NotifyConfig::default()), "notify");
    webhook().validate().unwrap();
}

#[test]
fn bounds_are_checked() {
    let mut c = webhook();
    c.max_per_minute = 0;
    assert_eq!(err_setting(&c), "notify.max_per_minute");
    let mut c = webhook();
    c.retries = MAX_RETRIES + 1;
    assert_eq!(err_setting(&c), "notify.retries");
    let mut c = webhook();
    c.retry_backoff_max_ms = 10;
    assert_eq!(err_setting(&c), "notify.retry_backoff_max_ms");
    let mut c = webhook();
    c.queue = 0;
    assert_eq!(err_setting(&c), "notify.queue");
}

#[test]
fn webhook_checks() {
    let mut c = webhook();
    c.webhook.as_mut().unwrap().url = "ftp://x/".into();
    assert_eq!(err_setting(&c), "notify.webhook.url");
    let mut c = webhook();
    c.webhook.as_mut().unwrap().template = Some("{\"text\": \"{{nope}}\"}".into());
    let msg = c.validate().unwrap_err().to_string();
    assert!(msg.contains("nope") && msg.contains("{{kind}}"), "{msg}");
    let mut c = webhook();
    c.webhook.as_mut().unwrap().template = Some("{\"text\": {{kind}}}".into());
    assert_eq!(err_setting(&c), "notify.webhook.template");
    let mut c = webhook();
    c.webhook
        .as_mut()
        .unwrap()
        .headers
        .insert("Bad Name".into(), "v".into());
    assert_eq!(err_setting(&c), "notify.webhook.headers");
    let mut c = webhook();
    c.webhook
        .as_mut()
        .unwrap()
        .headers
        .insert("X-Ok".into(), "a\r\nInjected: 1".into());
    assert_eq!(err_setting(&c), "notify.webhook.headers");
}

#[test]
fn redaction_hides_the_path_and_secrets() {
    assert_eq!(
        redact_url("https://user:pw@hooks.example.com:8443/services/SECRET?x=1"),
        "https://hooks.example.com:8443/…"
    );
    assert_eq!(redact_url("http://127.0.0.1/"), "http://127.0.0.1/");
    let dbg = format!("{:?}", webhook().webhook.unwrap());
    assert!(!dbg.contains("SECRET"), "{dbg}");
}

#[test]
fn syslog_checks_and_facilities() {
    let mut c = NotifyConfig {
        syslog: Some(SyslogConfig {
            address: "127.0.0.1:514".into(),
            ..SyslogConfig::default()
        }),
        ..NotifyConfig::default()
    };
    c.validate().unwrap();
    c.syslog.as_mut().unwrap().address = "127.0.0.1".into();
    assert_eq!(err_setting(&c), "notify.syslog.address");
    c.syslog.as_mut().unwrap().address = "[::1]:514".into();
    c.validate().unwrap();
    c.syslog.as_mut().unwrap().app_name = "wire watch".into();
    assert_eq!(err_setting(&c), "notify.syslog.app_name");
    assert_eq!(Facility::from_name("LOCAL7").unwrap().code(), 23);
    assert_eq!(Facility::from_code(4).unwrap().name(), "auth");
    assert!(Facility::from_code(24).is_none());
    assert_eq!(Facility::default().code(), 16);
}

#[test]
fn email_checks() {
    let good = EmailConfig {
        smtp_host: "smtp.example.org".into(),
        from: "Wirewatch <ww@example.org>".into(),
        to: vec!["ops@example.org".into()],
        ..EmailConfig::default()
    };
    let mut c = NotifyConfig {
        email: Some(good.clone()),
        ..NotifyConfig::default()
    };
    c.validate().unwrap();
    assert_eq!(good.port(), 587);
    c.email.as_mut().unwrap().to = vec!["not an address".into()];
    assert_eq!(err_setting(&c), "notify.email.to");
    let mut e = good.clone();
    e.starttls = false;
    e.username = Some("u".into());
    e.password = Some("p".into());
    c.email = Some(e.clone());
    assert_eq!(err_setting(&c), "notify.email.starttls");
    assert_eq!(e.port(), 25);
    e.smtp_host = "127.0.0.1".into();
    c.email = Some(e);
    c.validate().unwrap();
    let dbg = format!("{:?}", c.email.unwrap());
    assert!(dbg.contains("<hidden>") && !dbg.contains("\"p\""), "{dbg}");
}

#[test]
fn the_documented_toml_shape_parses() {
    #[derive(Deserialize)]
    struct File {
        notify: NotifyConfig,
    }
    let text = r#"
        [notify]
        min_severity = "critical"
        max_per_minute = 20
        retries = 2
        retry_backoff_ms = 500
        retry_backoff_max_ms = 4000
        queue = 64

        [notify.webhook]
        url = "https://hooks.example.com/services/X"
        template = '{"text": "[{{severity}}] {{kind}}: {{message}}"}'
        timeout_ms = 3000
        headers = { Authorization = "Bearer t" }

        [notify.syslog]
        address = "127.0.0.1:514"
        transport = "tcp"
        facility = 20
        hostname = "sensor-1"

        [notify.email]
        smtp_host = "smtp.example.org"
        from = "Wirewatch <ww@example.org>"
        to = ["ops@example.org"]
        username = "ww"
        password = "pw"
    "#;
    let c = toml::from_str::<File>(text).unwrap().notify;
    c.validate().unwrap();
    assert_eq!(c.min_severity, Severity::Critical);
    assert_eq!(c.max_per_minute, 20);
    let w = c.webhook.unwrap();
    assert_eq!(w.headers["Authorization"], "Bearer t");
    let s = c.syslog.unwrap();
    assert_eq!(s.transport, SyslogTransport::Tcp);
    assert_eq!(s.facility.name(), "local4");
    assert_eq!(s.app_name, "wirewatch");
    let e = c.email.unwrap();
    assert!(e.starttls);
    assert_eq!(e.port(), 587);
    assert_eq!(e.subject_prefix, "[wirewatch]");

    // Defaults, names for facilities, and unknown keys refused with their name.
    let c = toml::from_str::<File>(
        "[notify]\n[notify.syslog]\naddress = \"h:514\"\nfacility = \"daemon\"\n",
    )
    .unwrap()
    .notify;
    assert_eq!(c.min_severity, Severity::High);
    assert_eq!(c.max_per_minute, DEFAULT_MAX_PER_MINUTE);
    assert_eq!(c.retries, DEFAULT_RETRIES);
    assert_eq!(c.queue, DEFAULT_QUEUE);
    assert_eq!(c.syslog.unwrap().facility.code(), 3);
    let err = toml::from_str::<File>("[notify]\nmax_per_hour = 3\n")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("max_per_hour"), "{err}");
    let err = toml::from_str::<File>("[notify.syslog]\naddress = \"h:1\"\nfacility = \"local9\"\n")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("local9"), "{err}");
}
