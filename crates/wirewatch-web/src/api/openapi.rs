//! `GET /api/openapi.json`: an OpenAPI 3.0 description of every route, written by hand.
//!
//! A test checks that every route of the router (see [`crate::api::routes`]) is described.

use crate::api::json;
use crate::error::ApiError;
use crate::query::Table;
use axum::response::Response;
use serde_json::{Value, json};

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn string() -> Value {
    json!({"type": "string"})
}

/// The query parameters of a history route of `table`.
fn history_params(table: Table) -> Vec<Value> {
    table
        .params()
        .into_iter()
        .map(|name| match name {
            "from" => param(
                "from",
                "Start of the time range: Unix seconds, RFC 3339, or relative to the newest \
                 packet time (-30s, -5m, -1h, -24h, -7d).",
                string(),
            ),
            "to" => param(
                "to",
                "End of the time range (same forms as `from`).",
                string(),
            ),
            "sort" => param(
                "sort",
                "Column to sort by (the table's whitelist).",
                string(),
            ),
            "desc" => param(
                "desc",
                "Sort descending (true/false).",
                json!({"type": "boolean"}),
            ),
            "limit" => param(
                "limit",
                "Rows per page (default 100, at most 10000).",
                json!({"type": "integer", "minimum": 1}),
            ),
            "offset" => param(
                "offset",
                "Rows to skip.",
                json!({"type": "integer", "minimum": 0}),
            ),
            "resolution" => param(
                "resolution",
                "Interval table: raw, minute, hour or auto.",
                json!({"type": "string", "enum": ["raw", "minute", "hour", "auto"]}),
            ),
            "ip" => param(
                "ip",
                "Address or CIDR network (source or destination).",
                string(),
            ),
            "port" => param(
                "port",
                "Port (source or destination).",
                json!({"type": "integer", "minimum": 0, "maximum": 65535}),
            ),
            "proto" => param(
                "proto",
                "IP protocol: tcp, udp, icmp, icmpv6 or a number.",
                string(),
            ),
            "name" => param(
                "name",
                match table {
                    Table::Transactions => {
                        "Substring of the name: the DNS query, HTTP host or TLS/QUIC server name."
                    }
                    Table::Talkers => "Substring of the host name learned from DNS answers.",
                    _ => "Substring of the application or server name.",
                },
                string(),
            ),
            "q" => param(
                "q",
                match table {
                    Table::Transactions => {
                        "Free text over names, HTTP URIs and user agents, DNS answers, response \
                         codes, TLS versions, ALPN and JA4."
                    }
                    _ => "Free text over names and alert messages.",
                },
                string(),
            ),
            "kind" => match table {
                Table::Talkers => param("kind", "Direction: src or dst.", string()),
                Table::Transactions => param(
                    "kind",
                    "Transaction kind: dns, http or tls (TLS and QUIC handshakes).",
                    json!({"type": "string", "enum": ["dns", "http", "tls"]}),
                ),
                _ => param("kind", "Alert kind (exact), e.g. port_scan.", string()),
            },
            "severity" => param(
                "severity",
                "Lowest alert severity: low, medium, high, critical.",
                json!({"type": "string", "enum": ["low", "medium", "high", "critical"]}),
            ),
            other => param(other, "", string()),
        })
        .collect()
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn history_path(table: Table) -> Value {
    json!({"get": {
        "summary": format!("A page of stored {}", table.name()),
        "parameters": history_params(table),
        "responses": {
            "200": ok("One page and the size of the whole filtered set.", r("Page")),
            "400": error("A bad parameter (the message says which and why)."),
            "401": error("No or wrong token."),
            "503": error("No database.")
        }
    }})
}

fn control_responses() -> Value {
    json!({
        "200": ok("The capture status after the change.", r("CaptureStatus")),
        "400": error("Unreadable body."),
        "403": error("Missing X-Wirewatch header or cross-site request."),
        "409": error("The request does not fit the current state."),
        "422": error("The capture refused it (libpcap's message)."),
        "503": error("Capture control is unavailable.")
    })
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut export_params = history_params(Table::Flows);
    for t in [
        Table::Intervals,
        Table::Talkers,
        Table::Alerts,
        Table::Transactions,
    ] {
        for p in history_params(t) {
            if !export_params.iter().any(|e| e["name"] == p["name"]) {
                export_params.push(p);
            }
        }
    }
    export_params.retain(|p| p["name"] != "limit" && p["name"] != "kind");
    export_params.push(param(
        "kind",
        "Talkers: the direction, src or dst; alerts: the alert kind (exact); transactions: dns, \
         http or tls.",
        string(),
    ));
    export_params.push(param(
        "limit",
        "Rows to export in all (default and maximum 1000000).",
        json!({"type": "integer", "minimum": 1}),
    ));
    export_params.push(param(
        "format",
        "csv (default) or json.",
        json!({"type": "string", "enum": ["csv", "json"]}),
    ));
    export_params.insert(
        0,
        json!({"name": "what", "in": "path", "required": true,
               "description": "Which table; the parameters of its history route apply.",
               "schema": {"type": "string", "enum": ["intervals", "talkers", "flows", "alerts", "transactions"]}}),
    );
    let csrf = json!({"name": "X-Wirewatch", "in": "header", "required": true,
                      "description": "Must be 1 (cross-site request protection).",
                      "schema": {"type": "string", "enum": ["1"]}});

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Wirewatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Live network monitor: status, snapshots, capture control, stored \
                history and exports. Times are packet time in seconds since the epoch (alert \
                `start_ts`/`last_ts`: nanoseconds, as the core Alert). When the server needs a \
                token, send it as `Authorization: Bearer TOKEN` or the `wirewatch_token` cookie \
                (on /ws also `?token=`)."
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "wirewatch_token"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "CaptureStatus": {"type": "object", "properties": {
                    "running": {"type": "boolean"},
                    "source": {"type": "string"},
                    "interface": {"type": "string", "nullable": true},
                    "filter": {"type": "string", "nullable": true},
                    "last_error": {"type": "string", "nullable": true}
                }},
                "Status": {"type": "object", "properties": {
                    "version": {"type": "string"},
                    "capture": r("CaptureStatus"),
                    "listen": {"type": "string"},
                    "auth_required": {"type": "boolean"},
                    "store": {"type": "object", "nullable": true,
                              "description": "Store writer counters, null without a database."},
                    "seq": {"type": "integer"}
                }},
                "Snapshot": {"type": "object",
                             "description": "The live state; see docs/web.md.",
                             "properties": {
                    "seq": {"type": "integer"}, "ts": {"type": "number"},
                    "interval_s": {"type": "number"}, "status": r("CaptureStatus"),
                    "stats": {"type": "object"}, "recent": {"type": "array", "items": {"type": "object"}},
                    "protocols": {"type": "object"}, "apps": {"type": "array", "items": {"type": "object"}},
                    "top_sources": {"type": "array", "items": {"type": "object"}},
                    "top_destinations": {"type": "array", "items": {"type": "object"}},
                    "connections": {"type": "array", "items": {"type": "object"}},
                    "packets": {"type": "array", "items": {"type": "object"}},
                    "alerts": {"type": "array", "items": {"type": "object"}},
                    "tcp": {"type": "object",
                            "description": "TCP health of the last minutes' connections: slowest, lossiest, hosts."}
                }},
                "Interface": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string", "nullable": true},
                    "addresses": {"type": "array", "items": {"type": "string"}},
                    "up": {"type": "boolean"}, "running": {"type": "boolean"},
                    "loopback": {"type": "boolean"}, "wireless": {"type": "boolean"},
                    "default": {"type": "boolean"}
                }},
                "Page": {"type": "object", "properties": {
                    "rows": {"type": "array", "items": {"type": "object"}},
                    "total": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "limit": {"type": "integer"}
                }}
            }
        },
        "security": [{}, {"bearer": []}, {"cookie": []}],
        "paths": {
            "/api/status": {"get": {"summary": "Server and capture status",
                "responses": {"200": ok("Status.", r("Status")), "401": error("No or wrong token.")}}},
            "/api/snapshot": {"get": {"summary": "The current snapshot",
                "responses": {"200": ok("The snapshot.", r("Snapshot")), "401": error("No or wrong token.")}}},
            "/api/interfaces": {"get": {"summary": "Interfaces a live capture can open",
                "responses": {"200": ok("Interfaces.", json!({"type": "array", "items": r("Interface")})),
                              "401": error("No or wrong token."),
                              "503": error("Interface listing unavailable.")}}},
            "/api/capture/start": {"post": {"summary": "Start (or switch) the live capture",
                "parameters": [csrf.clone()],
                "requestBody": {"required": false, "content": {"application/json": {"schema":
                    {"type": "object", "additionalProperties": false, "properties": {
                        "interface": {"type": "string", "nullable": true},
                        "filter": {"type": "string", "nullable": true}}}}}},
                "responses": control_responses()}},
            "/api/capture/stop": {"post": {"summary": "Stop capturing",
                "parameters": [csrf.clone()],
                "responses": {"200": ok("The capture status.", r("CaptureStatus")),
                              "403": error("Missing X-Wirewatch header or cross-site request.")}}},
            "/api/capture/filter": {"post": {"summary": "Replace the capture filter",
                "parameters": [csrf],
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"type": "object", "additionalProperties": false,
                     "properties": {"filter": {"type": "string", "nullable": true}}}}}},
                "responses": control_responses()}},
            "/api/model/retrain": {"post": {"summary": "Retrain the anomaly model on a stored range (capture goes on)",
                "parameters": [csrf],
                "requestBody": {"required": false, "content": {"application/json": {"schema":
                    {"type": "object", "additionalProperties": false,
                     "properties": {"from": {"type": "string", "nullable": true},
                                    "to": {"type": "string", "nullable": true}}}}}},
                "responses": {
                    "200": {"description": "The new model is in force.",
                            "content": {"application/json": {"schema": {"type": "object",
                                "properties": {"intervals": {"type": "integer"},
                                               "threshold": {"type": "number"},
                                               "saved_to": {"type": "string", "nullable": true}}}}}},
                    "400": error("A bad body."),
                    "401": error("No or wrong token."),
                    "403": error("Cross-site request refused."),
                    "422": error("Nothing to train on in that range."),
                    "503": error("No anomaly detector or no database.")}}},
            "/api/history/intervals": history_path(Table::Intervals),
            "/api/history/talkers": history_path(Table::Talkers),
            "/api/history/flows": history_path(Table::Flows),
            "/api/history/alerts": history_path(Table::Alerts),
            "/api/history/transactions": history_path(Table::Transactions),
            "/api/export/{what}": {"get": {"summary": "Download every row of a history query",
                "parameters": export_params,
                "responses": {
                    "200": {"description": "An attachment (Content-Disposition); X-Total-Count is \
                                            the size of the filtered set.",
                            "content": {"text/csv": {"schema": {"type": "string"}},
                                        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
                    "400": error("A bad parameter."),
                    "401": error("No or wrong token."),
                    "404": error("Unknown table."),
                    "503": error("No database.")}}},
            "/api/alerts/{id}/evidence": {"get": {"summary": "Download an alert's evidence capture (pcap)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "The packets of the alert's hosts from before to after it \
                                            opened (attachment).",
                            "content": {"application/vnd.tcpdump.pcap": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": error("Not an alert id."),
                    "401": error("No or wrong token."),
                    "404": error("No evidence capture for that alert.")}}},
            "/api/packets": {"get": {"summary": "Download packets by host, port, flow and time range (pcap or pcapng)",
                "parameters": [
                    param("source", "ring (recent packets in memory, default) or files (the --write-pcap files).", string()),
                    param("host", "Addresses, comma-separated: packets from or to any of them.", string()),
                    param("port", "A port, source or destination.", string()),
                    param("flow", "PROTO ADDR:PORT ADDR:PORT, either direction.", string()),
                    param("from", "Not before: Unix seconds or RFC 3339.", string()),
                    param("until", "Not after: Unix seconds or RFC 3339.", string()),
                    param("format", "pcap (default) or pcapng.", string())],
                "responses": {
                    "200": {"description": "An attachment; X-Packet-Count packets, X-Packets-Left-Out \
                                            matched but left out (size cap, other link type).",
                            "content": {"application/vnd.tcpdump.pcap": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": error("A bad parameter."),
                    "401": error("No or wrong token."),
                    "503": error("No packet ring or no capture files.")}}},
            "/metrics": {"get": {"summary": "Counters in the Prometheus text exposition format",
                "responses": {"200": {"description": "Prometheus text format 0.0.4.",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}},
                              "401": error("No or wrong token.")}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.0 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/ws": {"get": {"summary": "Live feed (WebSocket): a full message, then one delta per interval",
                "parameters": [param("token", "The token, when needed (browsers cannot set headers on a WebSocket).", string())],
                "responses": {"101": {"description": "Switching to the WebSocket protocol."},
                              "401": error("No or wrong token."),
                              "403": error("Cross-site handshake."),
                              "503": error("Too many WebSockets open (the cap); Retry-After says when to try again.")}}},
            "/": {"get": {"summary": "The dashboard page", "security": [],
                "responses": {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/history": {"get": {"summary": "The history page", "security": [],
                "responses": {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}},
                              "404": {"description": "Not in this build."}}}}
        }
    })
}

/// `GET /api/openapi.json`.
pub(crate) async fn handler() -> Result<Response, ApiError> {
    json(&document())
}
