//! Synthetic traffic: packet builders, a pcap writer, and the seeded scenario generator.
//!
//! Owns making frames from nothing: [`build`] writes any Ethernet/IP/TCP/UDP/ICMP/ARP/DNS frame
//! with correct lengths and checksums (other crates use it for hand-built test packets),
//! [`generator`] produces a deterministic, realistic traffic mix together with its ground truth,
//! [`scenario`] loops background traffic with a port scan, a SYN flood and a spike for the demo,
//! and [`pcap_writer`] stores frames as a classic pcap. Nothing here decodes packets or reads the
//! wall clock: packet time comes from the configuration.

pub mod build;
pub mod checksum;
mod flow;
pub mod generator;
pub mod payload;
pub mod pcap_writer;
mod pools;
pub mod rng;
pub mod scenario;

pub use build::{
    ArpPacket, BROADCAST_MAC, Body, ETH_MIN_FRAME, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6,
    Echo, Fragment, FrameSpec, IcmpMessage, IpPacket, Ipv6Ext, MacAddr, TPID_8021AD, TPID_8021Q,
    TcpOptions, TcpSegment, Transport, UdpDatagram, VlanTag, tcp_flags,
};
pub use checksum::internet_checksum;
pub use generator::{
    GenerateSummary, GeneratedFrame, Generator, GeneratorConfig, MAX_ACTIVE_FLOWS, write_pcap,
    write_pcap_snaplen,
};
pub use payload::{DNS_TYPE_A, DNS_TYPE_AAAA, DnsMessage, Payload};
pub use pcap_writer::PcapWriter;
pub use scenario::{
    FLOOD_PORT, FLOOD_SOURCE_NET, FLOOD_SOURCE_PREFIX, FLOOD_SYN_ACK_PER_MILLE, FLOOD_TARGET,
    Phase, SCAN_OPEN_PORTS, SCAN_PORTS, SCAN_TARGET, SCANNER, SPIKE_CLIENT, SPIKE_SERVER,
    SPIKE_SERVER_PORT, SPIKE_TRANSFER_SHARE, Scenario, ScenarioConfig, TIMELINE,
};
