//! The JSON API through the router, without a socket.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use wirewatch_core::{Severity, Timestamp};
use wirewatch_store::contract::T0;
use wirewatch_store::{Query, Resolution, Store, parse_ip_filter};
use wirewatch_web::{CONTENT_SECURITY_POLICY, ControlFailure, WebState};

fn value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[tokio::test]
async fn status_reports_version_capture_listen_store_and_seq() {
    let f = fixture();
    f.publisher.publish(snapshot(7));
    *f.control.status.lock().unwrap() = wirewatch_web::CaptureStatus {
        running: true,
        source: "capturing on eth0 (filter: none)".into(),
        interface: Some("eth0".into()),
        ..Default::default()
    };
    let r = get(&f.state, "/api/status").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["version"], "9.9.9-test");
    assert_eq!(v["listen"], "127.0.0.1:8080");
    assert_eq!(v["auth_required"], false);
    assert_eq!(v["seq"], 7);
    assert_eq!(v["capture"]["running"], true);
    assert_eq!(v["capture"]["interface"], "eth0");
    assert_eq!(v["capture"]["filter"], Value::Null);
    assert_eq!(v["store"], value(&f.store.stats()));

    // Without a store, `store` is null.
    let (_p, rx) = wirewatch_web::snapshot_channel();
    let bare = WebState::new(rx, f.control.clone());
    assert_eq!(get(&bare, "/api/status").await.json()["store"], Value::Null);
}

#[tokio::test]
async fn snapshot_is_the_published_one() {
    let f = fixture();
    let empty = get(&f.state, "/api/snapshot").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["seq"], 0);
    let snap = snapshot(12);
    f.publisher.publish(snap.clone());
    let r = get(&f.state, "/api/snapshot").await;
    assert_eq!(r.json(), value(&snap));
    let back: wirewatch_web::Snapshot = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(back, snap);
}

#[tokio::test]
async fn interfaces_list_and_failure() {
    let f = fixture();
    let r = get(&f.state, "/api/interfaces").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!([{"name": "eth0", "description": "Ethernet", "addresses": ["192.0.2.10"],
                "up": true, "running": true, "loopback": false, "wireless": false,
                "default": true}])
    );
    *f.control.interfaces_failure.lock().unwrap() =
        Some(ControlFailure::unavailable("no live capture in this build"));
    let r = get(&f.state, "/api/interfaces").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.error(), "no live capture in this build");
}

#[tokio::test]
async fn capture_control_calls_the_control_and_maps_its_failures() {
    let f = fixture();
    let r = post(
        &f.state,
        "/api/capture/start",
        r#"{"interface": "eth1", "filter": "tcp port 80"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["interface"], "eth1");
    assert_eq!(r.json()["filter"], "tcp port 80");
    // Empty body: default interface, no filter; blank strings are none.
    assert_eq!(
        post(&f.state, "/api/capture/start", "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(
            &f.state,
            "/api/capture/start",
            r#"{"interface": "", "filter": " "}"#
        )
        .await
        .status,
        StatusCode::OK
    );
    let r = post(&f.state, "/api/capture/filter", r#"{"filter": "udp"}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["filter"], "udp");
    assert_eq!(
        post(&f.state, "/api/capture/filter", r#"{"filter": null}"#)
            .await
            .json()["filter"],
        Value::Null
    );
    let r = post(&f.state, "/api/capture/stop", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["running"], false);
    assert_eq!(
        f.control.calls(),
        [
            "start Some(\"eth1\") Some(\"tcp port 80\")",
            "start None None",
            "start None None",
            "filter Some(\"udp\")",
            "filter None",
            "stop",
        ]
    );

    *f.control.start_failure.lock().unwrap() = Some(ControlFailure::refused(
        "eth9: No such device exists (SIOCGIFHWADDR: No such device)",
    ));
    let r = post(&f.state, "/api/capture/start", r#"{"interface": "eth9"}"#).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error(),
        "eth9: No such device exists (SIOCGIFHWADDR: No such device)"
    );
    *f.control.filter_failure.lock().unwrap() = Some(ControlFailure::conflict(
        "no live capture to filter: start one first",
    ));
    let r = post(&f.state, "/api/capture/filter", r#"{"filter": "tcp"}"#).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error(), "no live capture to filter: start one first");
    *f.control.filter_failure.lock().unwrap() =
        Some(ControlFailure::refused("syntax error in filter expression"));
    let r = post(
        &f.state,
        "/api/capture/filter",
        r#"{"filter": "tcp portt"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error(), "syntax error in filter expression");

    // Bad bodies.
    let r = post(&f.state, "/api/capture/start", r#"{"iface": "eth0"}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("unknown field `iface`"), "{}", r.error());
    let r = post(&f.state, "/api/capture/filter", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A missing `filter` is null (clear), as serde reads an absent optional field.
    post(&f.state, "/api/capture/filter", "{}").await;
    assert_eq!(f.control.calls().last().unwrap(), "filter None");
    let long = format!(r#"{{"filter": "{}"}}"#, "a".repeat(5000));
    let r = post(&f.state, "/api/capture/filter", &long).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("invalid `filter`: 5000 bytes long"));
}

#[tokio::test]
async fn posts_need_the_header_and_the_same_origin() {
    let f = fixture();
    let r = send(
        &f.state,
        Request::post("/api/capture/stop")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.error(),
        "state-changing requests must carry the header `X-Wirewatch: 1`"
    );
    let cross = |origin: &str| {
        Request::post("/api/capture/stop")
            .header("host", "127.0.0.1:8080")
            .header("origin", origin)
            .header("x-wirewatch", "1")
            .body(Body::empty())
            .unwrap()
    };
    let r = send(&f.state, cross("http://evil.example")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.error().starts_with("cross-site request refused"),
        "{}",
        r.error()
    );
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(
        send(&f.state, cross("null")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&f.state, cross("http://127.0.0.1:8080")).await.status,
        StatusCode::OK
    );
    // Nothing but the one allowed request reached the control.
    assert_eq!(f.control.calls(), ["stop"]);
    // No CORS: a preflight is not answered with any Access-Control header.
    let r = send(
        &f.state,
        Request::options("/api/capture/stop")
            .header("origin", "http://evil.example")
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        r.headers
            .keys()
            .all(|k| !k.as_str().starts_with("access-control"))
    );
}

#[tokio::test]
async fn a_foreign_host_is_refused_without_a_token() {
    let f = fixture();
    let r = send(
        &f.state,
        Request::get("/api/status")
            .header("host", "evil.example:8080")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error().contains("loopback"), "{}", r.error());
    for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"] {
        let r = send(
            &f.state,
            Request::get("/api/status")
                .header("host", host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{host}");
    }
}

async fn rows(state: &WebState, uri: &str) -> Value {
    let r = get(state, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    r.json()
}

#[tokio::test]
async fn history_returns_what_the_store_holds() {
    let f = fixture();
    let store: &dyn Store = &*f.store;
    let ts = |s: u64| Timestamp::from_secs_nanos(T0 + s, 0);

    let api = rows(
        &f.state,
        &format!(
            "/api/history/intervals?from={}&to={}&resolution=raw",
            T0 + 10,
            T0 + 19
        ),
    )
    .await;
    let own = store
        .intervals(&Query {
            from: Some(ts(10)),
            to: Some(ts(19)),
            resolution: Resolution::Raw,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, value(&own));
    assert_eq!(api["total"], 10);
    assert_eq!(api["rows"].as_array().unwrap().len(), 10);

    let api = rows(&f.state, "/api/history/intervals?resolution=minute").await;
    let own = store
        .intervals(&Query {
            resolution: Resolution::Minute,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, value(&own));

    let api = rows(
        &f.state,
        "/api/history/talkers?ip=10.0.0.1&kind=src&limit=5&sort=bytes&desc=true",
    )
    .await;
    let own = store
        .talkers(&Query {
            ip: Some(parse_ip_filter("10.0.0.1").unwrap()),
            kind: Some("src".into()),
            limit: 5,
            sort: Some("bytes".into()),
            descending: true,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, value(&own));
    assert_eq!(api["rows"].as_array().unwrap().len(), 5);

    let api = rows(
        &f.state,
        "/api/history/flows?ip=10.0.0.0/8&port=443&proto=tcp",
    )
    .await;
    let own = store
        .flows(&Query {
            ip: Some(parse_ip_filter("10.0.0.0/8").unwrap()),
            port: Some(443),
            proto: Some(6),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, value(&own));
    assert_eq!(api["total"], 11);

    let api = rows(
        &f.state,
        "/api/history/flows?name=www3.example&offset=0&limit=2",
    )
    .await;
    assert_eq!(api["total"], 1);
    assert_eq!(api["rows"][0]["server_name"], "www3.example.com");

    let api = rows(&f.state, "/api/history/alerts?severity=high&kind=port_scan").await;
    let own = store
        .alerts(&Query {
            min_severity: Some(Severity::High),
            kind: Some("port_scan".into()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, value(&own));
    assert_eq!(api["total"], 2);
    let api = rows(&f.state, "/api/history/alerts?q=flood").await;
    assert_eq!(api["total"], 1);
    assert_eq!(api["rows"][0]["kind"], "syn_flood");
}

#[tokio::test]
async fn relative_times_count_back_from_the_newest_packet_time() {
    let f = fixture();
    // Empty snapshot: the store's newest interval ends at T0 + 60.
    let api = rows(&f.state, "/api/history/intervals?from=-10s&resolution=raw").await;
    assert_eq!(api["total"], 10, "intervals starting at T0+50 ..= T0+59");
    assert_eq!(api["rows"][0]["start_ts"], (T0 + 50) as f64);
    // A published snapshot moves "now" to its ts.
    f.publisher.publish(wirewatch_web::Snapshot {
        seq: 1,
        ts: (T0 + 30) as f64,
        ..Default::default()
    });
    let api = rows(
        &f.state,
        "/api/history/intervals?from=-5s&to=-0s&resolution=raw",
    )
    .await;
    assert_eq!(api["total"], 6);
    assert_eq!(api["rows"][0]["start_ts"], (T0 + 25) as f64);

    // Nothing captured, nothing stored: a relative time cannot be resolved.
    let dir = wirewatch_store::contract::TempDir::new("web-empty");
    let empty = std::sync::Arc::new(
        wirewatch_store::SqliteStore::open(&wirewatch_store::StoreConfig::new(
            dir.path().join("e.db"),
        ))
        .unwrap(),
    );
    let (_p, rx) = wirewatch_web::snapshot_channel();
    let state = WebState::new(rx, f.control.clone()).with_store(empty);
    let r = get(&state, "/api/history/flows?from=-1h").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.error()
            .starts_with("invalid `from`: `-1h` is relative to the newest packet time"),
        "{}",
        r.error()
    );
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let f = fixture();
    for (uri, expected) in [
        (
            "/api/history/flows?port=http",
            "invalid `port`: `http` is not a port number",
        ),
        (
            "/api/history/flows?ip=10.0.0.300",
            "invalid `ip`: invalid address filter",
        ),
        ("/api/history/flows?proto=tcpx", "invalid `proto`:"),
        (
            "/api/history/flows?from=yesterday",
            "invalid `from`: `yesterday` is not a time",
        ),
        (
            "/api/history/flows?limit=0",
            "invalid `limit`: must be at least 1",
        ),
        (
            "/api/history/flows?sort=secret",
            "invalid `sort`: flows cannot be sorted by `secret`",
        ),
        (
            "/api/history/alerts?severity=extreme",
            "invalid `severity`:",
        ),
        ("/api/history/talkers?kind=sideways", "invalid `kind`:"),
        (
            "/api/history/intervals?resolution=weekly",
            "invalid `resolution`:",
        ),
        (
            "/api/history/intervals?port=80",
            "unknown parameter `port` for intervals",
        ),
        (
            "/api/history/flows?colour=red&size=9",
            "unknown parameters `colour`, `size` for flows",
        ),
        (
            "/api/history/flows?from=1700000100&to=1700000000",
            "inverted time range",
        ),
        (
            "/api/export/flows?format=xml",
            "invalid `format`: `xml` is not csv or json",
        ),
        (
            "/api/export/flows?bogus=1",
            "unknown parameter `bogus` for flows",
        ),
        (
            "/api/history/transactions?kind=ssh",
            "invalid `kind`: `ssh` is not a transaction kind: use dns, http or tls",
        ),
        (
            "/api/history/transactions?severity=high",
            "unknown parameter `severity` for transactions",
        ),
        (
            "/api/history/transactions?sort=bytes",
            "invalid `sort`: transactions cannot be sorted by `bytes`",
        ),
        (
            "/api/export/transactions?kind=smtp",
            "is not a transaction kind",
        ),
    ] {
        let r = get(&f.state, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            r.error().contains(expected),
            "{uri}: {:?} lacks {expected:?}",
            r.error()
        );
    }
    // A huge limit is lowered to the store's maximum, not refused.
    let api = rows(&f.state, "/api/history/flows?limit=99999999").await;
    assert_eq!(api["limit"], wirewatch_store::MAX_LIMIT);
}

#[tokio::test]
async fn history_and_export_need_a_store() {
    let f = fixture();
    let (_p, rx) = wirewatch_web::snapshot_channel();
    let state = WebState::new(rx, f.control.clone());
    for uri in ["/api/history/flows", "/api/export/alerts?format=json"] {
        let r = get(&state, uri).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(r.error().starts_with("no database"), "{}", r.error());
    }
}

#[tokio::test]
async fn exported_csv_never_starts_a_formula_with_text_from_the_network() {
    let f = fixture();
    let formula = "=HYPERLINK(\"http://evil.example/\",\"open\")";
    let flow = wirewatch_store::contract::named(
        wirewatch_store::contract::sample_flow(77, "10.0.0.77", "192.0.2.77", 8443, 3),
        Some("tls"),
        Some(formula),
    );
    assert!(f.store.submit(vec![wirewatch_store::Record::Flow(flow)]));
    f.store.flush(wirewatch_store::contract::FLUSH).unwrap();
    let r = get(&f.state, "/api/export/flows?format=csv&port=8443").await;
    assert_eq!(r.status, StatusCode::OK);
    let (header, records) = csv_table(&r.body);
    let col = header.iter().position(|h| h == "server_name").unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(&records[0][col], format!("'{formula}"));
    for rec in &records {
        for (h, cell) in header.iter().zip(rec.iter()) {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "{h} = {cell:?}"
            );
        }
    }
    // JSON keeps the name as it was seen.
    let r = get(&f.state, "/api/export/flows?format=json&port=8443").await;
    assert_eq!(r.json()[0]["server_name"], formula);
}

#[tokio::test]
async fn export_csv_and_json() {
    let f = fixture();
    let r = get(&f.state, "/api/export/flows?format=csv&port=443").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"wirewatch-flows.csv\"")
    );
    assert_eq!(r.header("x-total-count"), Some("11"));
    let (header, records) = csv_table(&r.body);
    assert_eq!(
        &header[..5],
        ["proto", "src_ip", "src_port", "dst_ip", "dst_port"]
    );
    assert!(header.contains(&"server_name".to_string()));
    assert_eq!(records.len(), 11);
    let col = header.iter().position(|h| h == "server_name").unwrap();
    assert!(records.iter().any(|r| &r[col] == HOSTILE));

    // JSON: every row of the query, as the store returns them.
    let r = get(&f.state, "/api/export/intervals?format=json&resolution=raw").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"wirewatch-intervals.json\"")
    );
    let own = f
        .store
        .intervals(&Query {
            resolution: Resolution::Raw,
            limit: 1000,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(r.json(), value(&own.rows));
    assert_eq!(r.json().as_array().unwrap().len(), INTERVALS as usize);

    // `limit` caps the rows of an export; an empty result is an empty array.
    let r = get(&f.state, "/api/export/intervals?format=json&limit=7").await;
    assert_eq!(r.json().as_array().unwrap().len(), 7);
    let r = get(&f.state, "/api/export/flows?format=json&port=9").await;
    assert_eq!(r.json(), json!([]));

    // Alerts: the free-form evidence is one JSON column, so rows line up.
    let r = get(&f.state, "/api/export/alerts").await;
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"wirewatch-alerts.csv\"")
    );
    let (header, records) = csv_table(&r.body);
    let ev = header.iter().position(|h| h == "evidence").unwrap();
    assert_eq!(records.len(), 3);
    let evidence: Value = serde_json::from_str(&records[0][ev]).unwrap();
    assert_eq!(evidence["threshold"], 500);

    let r = get(&f.state, "/api/export/passwords").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.error()
            .contains("use intervals, talkers, flows, alerts or transactions")
    );
}

#[tokio::test]
async fn hostile_strings_come_back_as_json_data() {
    let f = fixture();
    f.publisher.publish(snapshot(3));
    let r = get(&f.state, "/api/history/flows?q=script").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.json()["rows"][0]["server_name"], HOSTILE);
    let r = get(&f.state, "/api/snapshot").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["connections"][0]["server_name"], HOSTILE);
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let f = fixture();
    let r = get(&f.state, "/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let paths = doc["paths"].as_object().unwrap();
    let routes = wirewatch_web::api::routes();
    for route in &routes {
        let op = &paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} missing", route.path))[route.method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} not described",
            route.method,
            route.path
        );
        assert!(
            op["responses"].is_object(),
            "{} {} has no responses",
            route.method,
            route.path
        );
    }
    // ... and nothing that is not a route.
    for path in paths.keys() {
        assert!(
            routes.iter().any(|r| r.path == path),
            "{path} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn every_route_is_served() {
    let f = fixture();
    for route in wirewatch_web::api::routes() {
        let uri = route.path.replace("{what}", "flows");
        let req = Request::builder().method(route.method).uri(&uri);
        let req = if route.method == "POST" {
            req.header("x-wirewatch", "1")
        } else {
            req
        };
        let r = send(&f.state, req.body(Body::empty()).unwrap()).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        if uri != "/history" {
            assert_ne!(r.status, StatusCode::NOT_FOUND, "{uri}");
        }
        assert_eq!(
            r.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn pages_assets_and_not_found() {
    let f = fixture();
    let r = get(&f.state, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    if !wirewatch_web::assets::dashboard_built() {
        assert!(
            r.text()
                .contains("npm --prefix web ci &amp;&amp; npm --prefix web run build")
        );
    }
    let r = get(&f.state, "/history").await;
    let expected = if wirewatch_web::assets::asset("history.html").is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    assert_eq!(r.status, expected);
    for path in wirewatch_web::assets::asset_paths() {
        let r = get(&f.state, &format!("/{path}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some(wirewatch_web::assets::content_type(path))
        );
        assert_eq!(r.body, wirewatch_web::assets::asset(path).unwrap());
    }

    let r = get(&f.state, "/api/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), "no API route GET /api/nothing");
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    let r = get(&f.state, "/api/capture/stop").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.error(), "GET is not allowed on /api/capture/stop");
    let r = get(&f.state, "/nothing.js").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(
        get(&f.state, "/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A CSV body's header row and records.
fn csv_table(body: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(body);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}
