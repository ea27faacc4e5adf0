//! IPv6: the fragment header after extension headers, atomic fragments, limits.

use super::*;

#[test]
fn fragment_header_after_extension_headers() {
    // Hop-by-hop and routing stay in front (the unfragmentable part); the reassembled datagram
    // has the routing header's Next Header pointing at UDP and the fragment header gone.
    let unfrag = [ext(0, 0), ext(43, 1)];
    let payload = udp(
        53,
        5353,
        &dns_answer("v6.example.org", [192, 0, 2, 53], 1_800),
    );
    let whole = v6_datagram(&unfrag, 17, &payload);
    let frags = v6_fragments(&unfrag, 17, 0xdead_beef, &payload, 1232);
    assert_eq!(frags.len(), 2);
    let mut r = reassembler();
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes, whole, "identical to the unfragmented datagram");
    let p = decode(LinkType::RAW, &done.bytes);
    assert_eq!(p.error, None);
    assert_eq!(p.fragment, None);
    assert_eq!(p.ip_proto, 17);
    assert_eq!(p.ports(), Some((53, 5353)));
    let msg = wirewatch_decode::app::dns::parse_udp(p.payload(&done.bytes)).unwrap();
    assert_eq!(msg.questions[0].name.to_string_lossy(), "v6.example.org");
    assert_accounted(&r);
}

#[test]
fn no_extension_headers_before_the_fragment_header() {
    let payload = tcp(443, 50_000, tcp_flags::SYN | tcp_flags::ACK, &[9; 300]);
    let whole = v6_datagram(&[], 6, &payload);
    let mut frags = v6_fragments(&[], 6, 1, &payload, 128);
    frags.reverse();
    let mut r = reassembler();
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes, whole);
    assert_eq!(
        decode(LinkType::RAW, &done.bytes).tcp_flags(),
        Some(tcp_flags::SYN | tcp_flags::ACK)
    );
}

#[test]
fn extension_headers_after_the_fragment_header_are_data() {
    // Destination options in the fragmentable part travel in the first fragment's data.
    let (first, dest) = chain(&[ext(60, 0)], 58);
    assert_eq!(first, 60);
    let mut payload = dest;
    payload.extend_from_slice(&[128, 0, 0, 0, 0, 7, 0, 1]); // echo request
    payload.extend_from_slice(&[0x61; 100]);
    let whole = v6_datagram(&[], 60, &payload);
    let frags = v6_fragments(&[], 60, 2, &payload, 64);
    let mut r = reassembler();
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes, whole);
    let p = decode(LinkType::RAW, &done.bytes);
    assert_eq!(p.ip_proto, 58);
    assert!(matches!(p.transport, Transport::Icmpv6(i) if i.echo == Some((7, 1))));
    // A first fragment that cuts the chain before the ICMPv6 header is tiny (RFC 7112).
    let mut r = reassembler();
    let tiny = v6_fragments(&[], 60, 3, &payload, 8);
    let done = completed(feed(&mut r, &tiny, at(0)));
    assert!(done.tiny_first);
    assert_eq!(r.stats().tiny_first, 1);
}

#[test]
fn atomic_fragment_is_not_held() {
    // RFC 6946: offset 0 and M = 0 is a whole datagram with a fragment header.
    let payload = udp(1, 2, b"atomic");
    let frame = v6_raw(&[ext(0, 0)], 17, 42, 0, false, &payload);
    let p = decode(LinkType::RAW, &frame);
    assert!(p.fragment.is_some_and(|f| f.offset == 0 && !f.more));
    assert_eq!(p.ports(), Some((1, 2)));
    let mut r = reassembler();
    assert_eq!(r.add(&frame, at(0)), Outcome::Atomic);
    // It does not meet a fragmented datagram of the same id either.
    assert_eq!(
        r.add(&v6_raw(&[], 17, 42, 0, true, &[0; 8]), at(0)),
        Outcome::Held
    );
    assert_eq!(r.add(&frame, at(0)), Outcome::Atomic);
    let s = r.stats();
    assert_eq!((s.fragments, s.atomic), (3, 2));
    assert_eq!(r.in_flight(), 1);
    assert_accounted(&r);
}

#[test]
fn next_header_of_later_fragments_does_not_matter() {
    // RFC 8200 §4.5: only the first fragment's Next Header counts; the identity is addresses
    // and id.
    let payload = udp(7, 7, &[1; 40]);
    let whole = v6_datagram(&[], 17, &payload);
    let mut r = reassembler();
    assert_eq!(
        r.add(&v6_raw(&[], 6, 5, 24, false, &payload[24..]), at(0)),
        Outcome::Held
    );
    let Outcome::Complete(done) = r.add(&v6_raw(&[], 17, 5, 0, true, &payload[..24]), at(0)) else {
        panic!()
    };
    assert_eq!(done.bytes, whole);
}

#[test]
fn ipv6_limits_and_bad_fragments() {
    let mut r = reassembler();
    // Payload length past 65,535 (the fragment header does not count once reassembled).
    assert_eq!(
        r.add(&v6_raw(&[], 17, 1, 65_528, false, &[0; 8]), at(0)),
        Outcome::Dropped(FragmentDrop::TooLarge)
    );
    assert_eq!(
        r.add(&v6_raw(&[], 17, 1, 65_528, false, &[0; 7]), at(0)),
        Outcome::Held
    );
    // Not the last and not a multiple of 8.
    assert_eq!(
        r.add(&v6_raw(&[], 17, 2, 0, true, &[0; 12]), at(0)),
        Outcome::Dropped(FragmentDrop::BadLength)
    );
    // Cut short by the capture.
    let frame = v6_raw(&[ext(0, 0)], 17, 3, 0, true, &[0; 64]);
    assert_eq!(
        r.add(&frame[..100], at(0)),
        Outcome::Dropped(FragmentDrop::Truncated)
    );
    // Payload length 0 (a jumbogram) with a fragment header.
    let mut jumbo = v6_raw(&[], 17, 4, 0, true, &[0; 16]);
    jumbo[4..6].copy_from_slice(&[0, 0]);
    assert_eq!(
        r.add(&jumbo, at(0)),
        Outcome::Dropped(FragmentDrop::Malformed)
    );
    // The hop-by-hop header names a fragment header the capture cut off.
    assert_eq!(
        r.add(&frame[..44], at(0)),
        Outcome::Dropped(FragmentDrop::Truncated)
    );
    // Cut before the hop-by-hop header says what follows: nothing to say.
    assert_eq!(r.add(&frame[..41], at(0)), Outcome::NotFragment);
    assert_accounted(&r);
}

#[test]
fn ipv6_timeout_is_60_seconds() {
    let mut r = reassembler();
    r.add(&v6_raw(&[], 17, 1, 0, true, &[0; 8]), at(0));
    r.add(&v4_raw(17, 1, 0, true, &[0; 8]), at(0));
    r.expire(at(30));
    assert_eq!(r.in_flight(), 1, "the IPv4 one is gone");
    r.expire(at(59));
    assert_eq!(r.in_flight(), 1);
    r.expire(at(60));
    assert_eq!(r.in_flight(), 0);
    assert_eq!(r.stats().abandoned(DatagramDrop::Timeout), 2);
}
