//! A captured frame as every packet source hands it to the engine.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A link-layer header type (the pcap `LINKTYPE_*` / DLT number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP (RFC 1661), optionally with the HDLC-like address/control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// Raw IP as OpenBSD numbers it (DLT_RAW 12).
    pub const RAW_OPENBSD: LinkType = LinkType(12);
    /// Raw IP as some BSDs number it (DLT_RAW 14).
    pub const RAW_BSD: LinkType = LinkType(14);
    /// Raw IPv4 or IPv6, no link header.
    pub const RAW: LinkType = LinkType(101);
    /// Cisco HDLC.
    pub const C_HDLC: LinkType = LinkType(104);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (SLL).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter NFLOG.
    pub const NFLOG: LinkType = LinkType(239);
    /// Linux cooked capture v2 (SLL2).
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// IEEE 802.11 (Wi-Fi) frames without a radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// IEEE 802.11 frames behind a radiotap header (monitor mode).
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Frames behind a Per-Packet Information header (802.11 ones are decoded).
    pub const PPI: LinkType = LinkType(192);
}

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture timestamp (packet time).
    pub ts: Timestamp,
    /// Link-layer header type of `data`.
    pub linktype: LinkType,
    /// The captured bytes (possibly cut short by the snapshot length).
    pub data: &'a [u8],
    /// The length of the frame on the wire, which may exceed `data.len()`.
    pub wire_len: u32,
    /// Index of the capture interface (pcapng interface id; 0 for single-interface sources).
    pub interface: u32,
}
