//! The alert kinds, in one place: detectors use these constants, suppression rules are checked
//! against [`ALL`], and sinks can rely on the spelling.

/// Packet or byte rate far above the adaptive baseline.
pub const SPIKE: &str = "spike";
/// Many SYNs to one destination (or the whole network) with few SYN-ACKs back.
pub const SYN_FLOOD: &str = "syn_flood";
/// One source probing many ports or hosts.
pub const PORT_SCAN: &str = "port_scan";
/// One destination flooded by one or a few sources.
pub const DOS: &str = "dos";
/// One destination flooded by many sources.
pub const DDOS: &str = "ddos";
/// Many short or failed connections from one source to an authentication service.
pub const BRUTE_FORCE: &str = "brute_force";
/// ICMP packets/s to one destination or overall far above normal.
pub const ICMP_FLOOD: &str = "icmp_flood";
/// UDP packets/s to one destination far above normal.
pub const UDP_FLOOD: &str = "udp_flood";

/// Query names carrying data: a DNS tunnel.
pub const DNS_TUNNEL: &str = "dns_tunnel";
/// Large unsolicited DNS responses flooding a host.
pub const DNS_AMPLIFICATION: &str = "dns_amplification";

/// A local host exchanged traffic with an address on a blocklist or scored by AbuseIPDB.
pub const THREAT_INTEL: &str = "threat_intel";

/// An interval unlike the learned baseline (Isolation Forest).
pub const ML_ANOMALY: &str = "ml_anomaly";

/// Flows a trained flow classifier calls an attack.
pub const ML_THREAT: &str = "ml_threat";

/// Every kind the detectors produce.
pub const ALL: [&str; 13] = [
    SPIKE,
    SYN_FLOOD,
    PORT_SCAN,
    DOS,
    DDOS,
    BRUTE_FORCE,
    ICMP_FLOOD,
    UDP_FLOOD,
    DNS_TUNNEL,
    DNS_AMPLIFICATION,
    THREAT_INTEL,
    ML_ANOMALY,
    ML_THREAT,
];
