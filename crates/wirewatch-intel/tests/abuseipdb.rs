//! The AbuseIPDB client and look-up service against a faithful fake server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::HashMap;
use std::net::{IpAddr, TcpListener};
use std::time::{Duration, SystemTime};
use support::abuseipdb::{FakeAbuseIpdb, FakeConfig, Record};
use wirewatch_intel::abuseipdb::{
    AbuseIpdbClient, AbuseIpdbConfig, ClientError, ENV_API_KEY, ENV_BASE_URL, IntelService,
    SkipReason, Submit,
};
use wirewatch_intel::{IntelCache, Reputation, Source};

/// Upper bound for waiting on the worker; the tests poll and return as soon as the
/// condition holds, this only bounds a failure.
const WAIT: Duration = Duration::from_secs(20);

/// Whether `f` came to hold within [`WAIT`] (the caller asserts, with what it knows).
fn wait_until(f: impl FnMut() -> bool) -> bool {
    wirewatch_testkit::poll_until(WAIT, f)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(server: &FakeAbuseIpdb) -> AbuseIpdbConfig {
    let mut c = AbuseIpdbConfig::new(server.key());
    c.base_url = server.base_url();
    c.timeout = Duration::from_secs(5);
    c
}

/// Collects results until `n` arrived.
fn collect(service: &IntelService, n: usize) -> HashMap<IpAddr, Reputation> {
    let mut got = HashMap::new();
    assert!(
        wait_until(|| {
            for r in service.try_results() {
                got.insert(r.ip, r);
            }
            got.len() >= n
        }),
        "only {} of {n} results; stats {:?}",
        got.len(),
        service.stats()
    );
    got
}

#[test]
fn client_sends_the_documented_request_and_parses_every_field() {
    let server = FakeAbuseIpdb::start(FakeConfig::default());
    server.set(
        "185.220.101.4",
        Record {
            score: 100,
            country_code: Some("DE"),
            country_name: Some("Germany"),
            usage_type: Some("Reserved"),
            isp: "Example Tor Exit e.V.",
            domain: Some("tor-exit.invalid"),
            hostnames: vec!["exit1.tor-exit.invalid"],
            is_tor: true,
            is_whitelisted: Some(false),
            total_reports: 4711,
            distinct_users: 321,
            last_reported_at: Some("2024-02-03T04:05:06+00:00"),
        },
    );
    server.set("2a06:e480::5", Record::scored(37));
    // The base address comes from ABUSEIPDB_BASE_URL here, as an operator would set it.
    let env: HashMap<&str, String> = [
        (ENV_API_KEY, server.key().to_string()),
        (ENV_BASE_URL, server.base_url()),
    ]
    .into_iter()
    .collect();
    let c = AbuseIpdbConfig::from_lookup(|k| env.get(k).cloned()).unwrap();
    let client = AbuseIpdbClient::new(&c).unwrap();

    let out = client.check(ip("185.220.101.4")).unwrap();
    let r = &out.reputation;
    assert_eq!(r.ip, ip("185.220.101.4"));
    assert_eq!(r.source, Source::AbuseIpdb);
    assert_eq!(r.score, 100);
    assert_eq!(r.country_code.as_deref(), Some("DE"));
    assert_eq!(r.country_name.as_deref(), Some("Germany"));
    assert_eq!(r.usage_type.as_deref(), Some("Reserved"));
    assert_eq!(r.isp.as_deref(), Some("Example Tor Exit e.V."));
    assert_eq!(r.domain.as_deref(), Some("tor-exit.invalid"));
    assert_eq!(r.hostnames, ["exit1.tor-exit.invalid"]);
    assert!(r.is_tor);
    assert_eq!(r.is_whitelisted, Some(false));
    assert_eq!(r.total_reports, 4711);
    assert_eq!(r.distinct_users, 321);
    assert_eq!(
        r.last_reported_at.as_deref(),
        Some("2024-02-03T04:05:06+00:00")
    );
    assert!(r.fetched_at_unix > 1_600_000_000);
    assert_eq!(out.rate_limit.limit, Some(1000));
    assert_eq!(out.rate_limit.remaining, Some(999));

    // IPv6 (the colon is escaped in the query) and the unknown-address defaults.
    let out = client.check(ip("2a06:e480::5")).unwrap();
    assert_eq!(out.reputation.score, 37);
    let out = client.check(ip("8.8.4.4")).unwrap();
    assert_eq!(out.reputation.score, 0);
    assert_eq!(out.reputation.country_code, None);
    assert_eq!(out.rate_limit.remaining, Some(997));

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.method, "GET");
        assert_eq!(s.path, "/api/v2/check");
        assert_eq!(s.key.as_deref(), Some(server.key()));
        assert_eq!(s.accept.as_deref(), Some("application/json"));
        assert_eq!(s.params.get("maxAgeInDays"), Some(&Some("90".to_string())));
        assert!(s.params.contains_key("verbose"));
        assert_eq!(s.status, 200);
    }
    assert_eq!(seen[1].ip(), Some("2a06:e480::5"));

    // Without `verbose` the country name is not sent.
    let mut c = c;
    c.verbose = false;
    c.max_age_days = 30;
    let client = AbuseIpdbClient::new(&c).unwrap();
    let out = client.check(ip("185.220.101.4")).unwrap();
    assert_eq!(out.reputation.country_name, None);
    assert_eq!(out.reputation.country_code.as_deref(), Some("DE"));
    let last = server.seen().pop().unwrap();
    assert!(!last.params.contains_key("verbose"));
    assert_eq!(
        last.params.get("maxAgeInDays"),
        Some(&Some("30".to_string()))
    );
}

#[test]
fn client_maps_401_422_429_and_network_errors() {
    let server = FakeAbuseIpdb::start(FakeConfig {
        quota: Some(1),
        window: Duration::from_secs(3600),
        ..FakeConfig::default()
    });
    let mut bad_key = config(&server);
    bad_key.api_key = "wrong".to_string();
    let err = AbuseIpdbClient::new(&bad_key)
        .unwrap()
        .check(ip("8.8.8.8"))
        .unwrap_err();
    match &err {
        ClientError::Unauthorized { detail } => {
            assert!(detail.starts_with("Authentication failed."), "{detail}")
        }
        e => panic!("{e:?}"),
    }
    assert!(err.to_string().contains(ENV_API_KEY));
    assert!(
        !err.to_string().contains("wrong"),
        "the key must not be shown: {err}"
    );

    let client = AbuseIpdbClient::new(&config(&server)).unwrap();
    // The client itself does not filter (the service does): the server's 422 comes back.
    let err = client.check(ip("10.0.0.1")).unwrap_err();
    match &err {
        ClientError::BadAddress {
            ip: a,
            detail,
            rate_limit,
        } => {
            assert_eq!(*a, ip("10.0.0.1"));
            assert!(detail.contains("not a public address"), "{detail}");
            assert_eq!(rate_limit.remaining, Some(1));
        }
        e => panic!("{e:?}"),
    }
    assert!(!err.is_transient());

    client.check(ip("8.8.8.8")).unwrap();
    let err = client.check(ip("8.8.4.4")).unwrap_err();
    match &err {
        ClientError::RateLimited { detail, rate_limit } => {
            assert!(
                detail.contains("rate limit of 1 requests exceeded"),
                "{detail}"
            );
            assert_eq!(rate_limit.remaining, Some(0));
            assert_eq!(rate_limit.limit, Some(1));
            let after = rate_limit.retry_after.unwrap();
            assert!(after > Duration::ZERO && after <= Duration::from_secs(3600));
            let reset = rate_limit.reset_at.unwrap();
            assert!(reset > SystemTime::now());
        }
        e => panic!("{e:?}"),
    }

    // A closed port: a network error naming the endpoint, not a panic.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = config(&server);
    c.base_url = format!("http://127.0.0.1:{port}/api/v2");
    let err = AbuseIpdbClient::new(&c)
        .unwrap()
        .check(ip("8.8.8.8"))
        .unwrap_err();
    assert!(matches!(err, ClientError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn scores_come_back_exactly_as_the_server_gave_them() {
    let server = FakeAbuseIpdb::start(FakeConfig::default());
    let scores = [
        ("198.18.0.1", None), // benchmarking range: not public, never sent
        ("45.95.147.1", Some(0u8)),
        ("45.95.147.2", Some(37)),
        ("45.95.147.3", Some(50)),
        ("45.95.147.4", Some(51)),
        ("45.95.147.5", Some(100)),
        ("2a06:e480::1", Some(88)),
    ];
    for (a, s) in scores {
        if let Some(s) = s {
            server.set(a, Record::scored(s));
        }
    }
    let service = IntelService::start(config(&server), None).unwrap();
    for (a, s) in scores {
        let want = if s.is_some() {
            Submit::Queued
        } else {
            Submit::Skipped(SkipReason::NotPublic)
        };
        assert_eq!(service.submit(ip(a)), want, "{a}");
    }
    let got = collect(&service, 6);
    for (a, s) in scores.iter().filter_map(|(a, s)| s.map(|s| (a, s))) {
        let r = &got[&ip(a)];
        assert_eq!(r.score, s, "{a}");
        assert_eq!(r.is_malicious(50), s > 50, "{a}");
        assert_eq!(r.country_name.as_deref(), Some("Netherlands"));
        assert_eq!(r.total_reports, u64::from(s) * 3);
    }
    let stats = service.stats();
    assert_eq!(stats.looked_up, 6);
    assert_eq!(stats.errors, 0);
    assert_eq!(stats.quota_limit, Some(1000));
    assert_eq!(stats.quota_remaining, Some(994));
    assert_eq!(server.requests_for("198.18.0.1"), 0);
}

#[test]
fn private_and_reserved_addresses_are_never_sent() {
    let server = FakeAbuseIpdb::start(FakeConfig::default());
    let service = IntelService::start(config(&server), None).unwrap();
    let local = [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.10.10",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.251",
        "192.0.2.10",
        "::1",
        "::",
        "fe80::1",
        "fd00::1234",
        "ff02::fb",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "::ffff:192.168.0.7",
    ];
    for a in local {
        for _ in 0..3 {
            assert_eq!(
                service.submit(ip(a)),
                Submit::Skipped(SkipReason::NotPublic),
                "{a}"
            );
        }
    }
    // A public one, so there is something to wait for.
    assert_eq!(service.submit(ip("8.8.8.8")), Submit::Queued);
    collect(&service, 1);
    assert_eq!(server.total(), 1);
    for a in local {
        assert_eq!(server.requests_for(a), 0, "{a}");
    }
    let stats = service.stats();
    assert_eq!(stats.skipped_private, 3 * local.len() as u64);
    assert_eq!(stats.queued, 1);
}

#[test]
fn one_request_per_address_however_often_submitted() {
    let server = FakeAbuseIpdb::start(FakeConfig {
        // Slow answers, so that repeats arrive while the first look-up is in flight.
        delay: Duration::from_millis(50),
        ..FakeConfig::default()
    });
    server.set("185.220.101.4", Record::scored(90));
    let service = IntelService::start(config(&server), None).unwrap();
    let addrs = ["185.220.101.4", "45.95.147.236", "2a06:e480::9"];
    for round in 0..50 {
        for a in addrs {
            let o = service.submit(ip(a));
            if round == 0 {
                assert_eq!(o, Submit::Queued, "{a}");
            } else {
                assert!(
                    matches!(
                        o,
                        Submit::Skipped(SkipReason::AlreadyKnown) | Submit::Cached(_)
                    ),
                    "{a}: {o:?}"
                );
            }
        }
    }
    // The IPv4-mapped spelling is the same host.
    service.submit(ip("::ffff:45.95.147.236"));
    let got = collect(&service, 3);
    assert_eq!(got[&ip("185.220.101.4")].score, 90);
    for a in addrs {
        assert_eq!(server.requests_for(a), 1, "{a}");
        match service.submit(ip(a)) {
            Submit::Cached(r) => assert_eq!(r.ip, ip(a)),
            o => panic!("{a}: {o:?}"),
        }
    }
    assert_eq!(server.total(), 3);
    let stats = service.stats();
    assert_eq!(stats.queued, 3);
    assert_eq!(stats.looked_up, 3);
    // Answered from memory: not handed out again.
    assert!(service.try_results().is_empty());
}

#[test]
fn the_database_cache_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wirewatch.db");
    let server = FakeAbuseIpdb::start(FakeConfig::default());
    server.set("45.95.147.236", Record::scored(77));
    let addrs = ["45.95.147.236", "185.220.101.4", "2a06:e480::7"];

    let mut first =
        IntelService::start(config(&server), Some(IntelCache::open(&db).unwrap())).unwrap();
    for a in addrs {
        assert_eq!(first.submit(ip(a)), Submit::Queued);
    }
    collect(&first, 3);
    first.shutdown();
    assert_eq!(server.total(), 3);

    // "Restart": a new service over the same file answers from the cache at once.
    let second =
        IntelService::start(config(&server), Some(IntelCache::open(&db).unwrap())).unwrap();
    for a in addrs {
        match second.submit(ip(a)) {
            Submit::Cached(r) => {
                assert_eq!(r.ip, ip(a));
                if a == "45.95.147.236" {
                    assert_eq!(r.score, 77);
                    assert_eq!(r.country_name.as_deref(), Some("Netherlands"));
                }
            }
            o => panic!("{a}: {o:?}"),
        }
    }
    assert_eq!(server.total(), 3, "no new requests after the restart");

    // The worker's own cache look-up: an answer written by another process after this
    // service started (so not in its memory) costs no request either.
    let third = IntelService::start(config(&server), Some(IntelCache::open(&db).unwrap())).unwrap();
    let writer =
        IntelService::start(config(&server), Some(IntelCache::open(&db).unwrap())).unwrap();
    assert_eq!(writer.submit(ip("91.92.250.12")), Submit::Queued);
    collect(&writer, 1);
    assert_eq!(server.requests_for("91.92.250.12"), 1);
    assert_eq!(third.submit(ip("91.92.250.12")), Submit::Queued);
    let got = collect(&third, 1);
    assert_eq!(got[&ip("91.92.250.12")].score, 0);
    assert_eq!(server.requests_for("91.92.250.12"), 1);
    assert_eq!(third.stats().cache_hits, 1);
    assert_eq!(third.stats().looked_up, 0);
}

#[test]
fn a_refused_key_disables_the_service_with_the_reason() {
    let server = FakeAbuseIpdb::start(FakeConfig::default());
    let mut c = config(&server);
    c.api_key = "revoked-key".to_string();
    let service = IntelService::start(c, None).unwrap();
    assert_eq!(service.submit(ip("8.8.8.8")), Submit::Queued);
    assert!(wait_until(|| service.stats().disabled_reason.is_some()));
    let reason = service.stats().disabled_reason.unwrap();
    assert!(reason.contains("401"), "{reason}");
    assert!(reason.contains("ABUSEIPDB_API_KEY"), "{reason}");
    assert!(!reason.contains("revoked-key"), "{reason}");
    assert!(service.is_disabled());
    for a in ["8.8.4.4", "1.1.1.1", "8.8.8.8"] {
        assert_eq!(service.submit(ip(a)), Submit::Skipped(SkipReason::Disabled));
    }
    // Private addresses still say why they are skipped.
    assert_eq!(
        service.submit(ip("10.0.0.1")),
        Submit::Skipped(SkipReason::NotPublic)
    );
    assert_eq!(server.total(), 1);
    assert_eq!(service.stats().errors, 1);

    let off = IntelService::disabled("no AbuseIPDB key configured");
    assert_eq!(
        off.submit(ip("8.8.8.8")),
        Submit::Skipped(SkipReason::Disabled)
    );
    assert_eq!(
        off.stats().disabled_reason.as_deref(),
        Some("no AbuseIPDB key configured")
    );
}

#[test]
fn a_422_is_counted_and_not_retried() {
    let server = FakeAbuseIpdb::start(FakeConfig {
        reject: [ip("203.0.114.1")].into_iter().collect(),
        ..FakeConfig::default()
    });
    let service = IntelService::start(config(&server), None).unwrap();
    assert_eq!(service.submit(ip("203.0.114.1")), Submit::Queued);
    assert_eq!(service.submit(ip("8.8.8.8")), Submit::Queued);
    collect(&service, 1);
    assert!(wait_until(|| service.stats().errors == 1));
    for _ in 0..10 {
        assert_eq!(
            service.submit(ip("203.0.114.1")),
            Submit::Skipped(SkipReason::AlreadyKnown)
        );
    }
    // Deliberate: time for a retry to happen, to prove none does.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.requests_for("203.0.114.1"), 1);
    let stats = service.stats();
    assert_eq!(stats.errors, 1);
    assert!(stats.last_error.unwrap().contains("422"));
    assert!(stats.disabled_reason.is_none());
}

#[test]
fn quota_exhaustion_pauses_without_blocking_and_resumes_after_the_reset() {
    /// The fake server's quota window: long enough for the checks made while paused.
    const WINDOW: Duration = Duration::from_secs(3);
    let server = FakeAbuseIpdb::start(FakeConfig {
        quota: Some(2),
        window: WINDOW,
        ..FakeConfig::default()
    });
    let mut c = config(&server);
    c.queue = 4;
    let service = IntelService::start(c, None).unwrap();
    for a in ["45.95.147.1", "45.95.147.2"] {
        assert_eq!(service.submit(ip(a)), Submit::Queued);
    }
    collect(&service, 2);
    // Third address: the server answers 429 and the service pauses.
    assert_eq!(service.submit(ip("45.95.147.3")), Submit::Queued);
    assert!(wait_until(|| service.stats().rate_limited == 1));
    let paused = service.stats();
    let until = paused.rate_limited_until.expect("paused");
    assert!(until > SystemTime::now());
    assert_eq!(paused.quota_remaining, Some(0));
    let requests_at_pause = server.total();
    assert_eq!(requests_at_pause, 3);

    // Flood it while paused: every submit returns at once, with a reason.
    let mut counts: HashMap<String, u64> = HashMap::new();
    for i in 0..2000u32 {
        let a = IpAddr::from([45, 96, (i >> 8) as u8, i as u8]);
        let o = match service.submit(a) {
            Submit::Queued => "queued",
            Submit::Skipped(SkipReason::QueueFull) => "queue_full",
            Submit::Skipped(SkipReason::QuotaExhausted) => "quota_exhausted",
            o => panic!("{o:?}"),
        };
        *counts.entry(o.to_string()).or_default() += 1;
    }
    assert_eq!(counts.values().sum::<u64>(), 2000);
    let refused = counts.get("queue_full").copied().unwrap_or(0)
        + counts.get("quota_exhausted").copied().unwrap_or(0);
    assert!(refused > 0, "{counts:?}");
    let stats = service.stats();
    assert_eq!(
        stats.dropped_queue_full,
        counts.get("queue_full").copied().unwrap_or(0)
    );
    // Nothing was sent while paused.
    if SystemTime::now() < until {
        assert_eq!(server.total(), requests_at_pause, "{stats:?}");
    }

    // After the reset the paused address is looked up again, without being resubmitted.
    assert!(
        wait_until(|| server.requests_for("45.95.147.3") == 2),
        "{:?}",
        service.stats()
    );
    let got = collect(&service, 1);
    assert!(got.contains_key(&ip("45.95.147.3")), "{got:?}");
    assert!(
        server
            .seen()
            .iter()
            .any(|s| s.status == 200 && s.ip() == Some("45.95.147.3"))
    );
    // The 429 counted once per pause; the service is still on.
    assert!(service.stats().disabled_reason.is_none());
}

#[test]
fn network_errors_back_off_without_crashing() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = AbuseIpdbConfig::new("some-key");
    c.base_url = format!("http://127.0.0.1:{port}/api/v2");
    c.timeout = Duration::from_secs(2);
    let mut service = IntelService::start(c, None).unwrap();
    for a in ["8.8.8.8", "1.1.1.1", "9.9.9.9"] {
        assert_eq!(service.submit(ip(a)), Submit::Queued);
    }
    assert!(wait_until(|| service.stats().errors >= 1));
    // The first back-off (2 s) holds the other addresses back: still one error shortly after.
    // Deliberate: time for a second attempt to happen, to prove the back-off prevents it.
    std::thread::sleep(Duration::from_millis(300));
    let stats = service.stats();
    assert_eq!(stats.errors, 1, "{stats:?}");
    assert_eq!(stats.backlog, 3, "{stats:?}");
    assert!(stats.last_error.unwrap().contains("cannot reach AbuseIPDB"));
    assert!(stats.disabled_reason.is_none());
    // Repeats are still suppressed, and submitting never blocks.
    assert_eq!(
        service.submit(ip("8.8.8.8")),
        Submit::Skipped(SkipReason::AlreadyKnown)
    );
    service.shutdown();
    assert_eq!(
        service.submit(ip("8.8.4.4")),
        Submit::Skipped(SkipReason::Disabled)
    );
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    let server = FakeAbuseIpdb::start(FakeConfig {
        delay: Duration::from_millis(300),
        ..FakeConfig::default()
    });
    let mut c = config(&server);
    c.queue = 2;
    let service = IntelService::start(c, None).unwrap();
    let (mut queued, mut full) = (0u64, 0u64);
    for i in 0..500u32 {
        match service.submit(IpAddr::from([45, 97, (i >> 8) as u8, i as u8])) {
            Submit::Queued => queued += 1,
            Submit::Skipped(SkipReason::QueueFull) => full += 1,
            o => panic!("{o:?}"),
        }
    }
    assert_eq!(queued + full, 500);
    // At most the two queued plus the one the worker took: the rest were refused at once.
    assert!(queued <= 3, "{queued}");
    let stats = service.stats();
    assert_eq!(stats.dropped_queue_full, full);
    assert_eq!(stats.queued, queued);
    // A dropped address can be submitted again later.
    collect(&service, queued as usize);
    assert_eq!(server.total() as u64, queued);
}

#[test]
fn without_rate_headers_the_configured_daily_quota_holds() {
    let server = FakeAbuseIpdb::start(FakeConfig {
        rate_headers: false,
        ..FakeConfig::default()
    });
    let mut c = config(&server);
    c.daily_quota = Some(2);
    let service = IntelService::start(c, None).unwrap();
    for a in ["45.95.147.1", "45.95.147.2", "45.95.147.3"] {
        assert_eq!(service.submit(ip(a)), Submit::Queued);
    }
    collect(&service, 2);
    assert!(wait_until(|| service.stats().backlog == 1));
    let stats = service.stats();
    assert_eq!(stats.quota_remaining, Some(0));
    assert_eq!(stats.quota_limit, Some(2));
    // Paused until the next UTC midnight: within a day from now.
    let until = stats.rate_limited_until.expect("paused");
    let left = until.duration_since(SystemTime::now()).unwrap();
    assert!(left <= Duration::from_secs(86_400), "{left:?}");
    // Deliberate: time for a third request to happen, to prove the pause prevents it.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.total(), 2);
    assert_eq!(server.requests_for("45.95.147.3"), 0);
}
