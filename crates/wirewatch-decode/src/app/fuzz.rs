//! Fuzz entry points of the application decoders: plain functions over arbitrary bytes, so
//! that the cargo-fuzz targets in `fuzz/` and the stable property tests below run the same
//! code. Each one runs every public parser of its protocol on the input and renders what it
//! found (rendering walks the escaping code too).

use super::{dns, http, quic, ssh, tls};

/// DNS: the input as a UDP payload and as a TCP payload (with its length prefix).
pub fn fuzz_dns(data: &[u8]) {
    for msg in [dns::parse_udp(data), dns::parse_tcp(data)]
        .into_iter()
        .flatten()
    {
        for q in &msg.questions {
            std::hint::black_box(q.name.to_string_lossy());
            std::hint::black_box(dns::name_entropy(&q.name));
        }
        for a in &msg.answers {
            std::hint::black_box(a.name.to_string_lossy());
        }
        std::hint::black_box(dns::rcode_name(msg.rcode));
    }
}

/// HTTP/1.x: the input as the start of a request and of a response.
pub fn fuzz_http(data: &[u8]) {
    if let Some(r) = http::parse_request(data) {
        std::hint::black_box(r.method.to_string_lossy());
        std::hint::black_box(r.path.to_string_lossy());
        std::hint::black_box(r.host.map(|h| h.to_string_lossy()));
        std::hint::black_box(r.user_agent.map(|h| h.to_string_lossy()));
    }
    std::hint::black_box(http::parse_response(data));
}

/// TLS: the input as the start of a client stream, of a server stream, and as a bare
/// ClientHello handshake message (as QUIC carries it).
pub fn fuzz_tls(data: &[u8]) {
    for hello in [
        tls::parse_client_hello(data),
        tls::parse_client_hello_message(data),
    ]
    .into_iter()
    .flatten()
    {
        std::hint::black_box(hello.sni.as_ref().map(tls::TlsName::to_string_lossy));
        std::hint::black_box(hello.ja4_a().map(str::len));
    }
    std::hint::black_box(tls::parse_server_hello(data));
}

/// SSH: the input as the start of a stream.
pub fn fuzz_ssh(data: &[u8]) {
    std::hint::black_box(ssh::parse_banner(data));
}

/// QUIC: see [`quic::fuzz_quic`].
pub fn fuzz_quic(data: &[u8]) {
    quic::fuzz_quic(data);
}

/// A fuzz entry point.
pub type FuzzTarget = fn(&[u8]);

/// Every application fuzz entry point, by name (the cargo-fuzz targets use the same names).
pub const TARGETS: [(&str, FuzzTarget); 5] = [
    ("dns", fuzz_dns),
    ("http", fuzz_http),
    ("tls", fuzz_tls),
    ("ssh", fuzz_ssh),
    ("quic", fuzz_quic),
];

#[cfg(test)]
mod tests {
    use super::TARGETS;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_target_survives_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..700)) {
            for (_, target) in TARGETS {
                target(&data);
            }
        }

        #[test]
        fn every_target_survives_plausible_starts(
            start in prop_oneof![
                Just(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()),
                Just(b"GET / HTTP/1.1\r\nHost: ".to_vec()),
                Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
                Just(b"SSH-2.0-".to_vec()),
                Just(vec![0xc3, 0, 0, 0, 1, 8]),
                Just(vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
            ],
            tail in proptest::collection::vec(any::<u8>(), 0..500),
        ) {
            let data = [start, tail].concat();
            for (_, target) in TARGETS {
                target(&data);
            }
        }
    }
}
