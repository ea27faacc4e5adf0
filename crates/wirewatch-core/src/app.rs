//! Application protocols and the names a flow carries (server name, DNS queries, HTTP and TLS
//! details).
//!
//! Owns the vocabulary only: which application protocols Wirewatch names, how a well-known port
//! maps to one (a guess, marked as such), and the per-flow details record. Finding them in
//! payloads is the flow crate's job (with the decode crate's parsers). Every string here came
//! off the network and was escaped by the decoder that produced it (printable ASCII only), but
//! it is still attacker-chosen text: render it as text, never as markup.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! app_protos {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal ),+ $(,)?) => {
        /// An application protocol Wirewatch can name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(u8)]
        pub enum AppProto {
            /// Not identified.
            #[default]
            Unknown,
            $( $(#[$doc])* $variant, )+
        }

        impl AppProto {
            /// Every protocol, `Unknown` first, in declaration order (`as usize` indexes it).
            pub const ALL: &'static [AppProto] = &[AppProto::Unknown, $( AppProto::$variant, )+];

            /// Lower-case name used in reports, JSON and the database.
            pub fn name(self) -> &'static str {
                match self {
                    AppProto::Unknown => "unknown",
                    $( AppProto::$variant => $name, )+
                }
            }
        }
    };
}

app_protos! {
    /// Domain Name System.
    Dns => "dns",
    /// Multicast DNS (UDP 5353).
    Mdns => "mdns",
    /// Link-Local Multicast Name Resolution (UDP 5355).
    Llmnr => "llmnr",
    /// HTTP/1.x.
    Http => "http",
    /// TLS over TCP.
    Tls => "tls",
    /// QUIC (IETF or Google).
    Quic => "quic",
    /// Secure Shell.
    Ssh => "ssh",
    /// DHCP for IPv4.
    Dhcp => "dhcp",
    /// DHCP for IPv6.
    Dhcpv6 => "dhcpv6",
    /// Network Time Protocol.
    Ntp => "ntp",
    /// NetBIOS name and datagram services.
    Netbios => "netbios",
    /// Simple Network Management Protocol.
    Snmp => "snmp",
    /// Syslog.
    Syslog => "syslog",
    /// SMTP (mail submission included).
    Smtp => "smtp",
    /// SMTP over TLS.
    Smtps => "smtps",
    /// POP3.
    Pop3 => "pop3",
    /// POP3 over TLS.
    Pop3s => "pop3s",
    /// IMAP.
    Imap => "imap",
    /// IMAP over TLS.
    Imaps => "imaps",
    /// FTP control connection.
    Ftp => "ftp",
    /// Telnet.
    Telnet => "telnet",
    /// Remote Desktop Protocol.
    Rdp => "rdp",
    /// SMB / CIFS.
    Smb => "smb",
    /// LDAP.
    Ldap => "ldap",
    /// LDAP over TLS.
    Ldaps => "ldaps",
    /// Kerberos.
    Kerberos => "kerberos",
    /// MySQL.
    Mysql => "mysql",
    /// PostgreSQL.
    Postgresql => "postgresql",
    /// Redis.
    Redis => "redis",
    /// MQTT.
    Mqtt => "mqtt",
    /// SIP.
    Sip => "sip",
    /// BGP.
    Bgp => "bgp",
    /// RADIUS.
    Radius => "radius",
    /// OpenVPN.
    Openvpn => "openvpn",
    /// STUN / TURN.
    Stun => "stun",
    /// SSDP (UPnP discovery).
    Ssdp => "ssdp",
    /// TFTP.
    Tftp => "tftp",
    /// VNC (RFB).
    Vnc => "vnc",
}

impl AppProto {
    /// Number of protocols, `Unknown` included.
    pub const COUNT: usize = AppProto::ALL.len();

    /// Parses a name as [`AppProto::name`] writes it.
    pub fn parse(name: &str) -> Option<AppProto> {
        AppProto::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The protocol a well-known server port suggests for IP protocol `ip_proto`.
    pub fn for_port(ip_proto: u8, port: u16) -> Option<AppProto> {
        use AppProto::*;
        let tcp = ip_proto == 6;
        let udp = ip_proto == 17;
        if !tcp && !udp {
            return None;
        }
        let p = match (port, tcp) {
            (53, _) => Dns,
            (5353, false) => Mdns,
            (5355, false) => Llmnr,
            (80 | 8080 | 8000 | 3128, true) => Http,
            (443 | 8443 | 853, true) => Tls,
            (443, false) => Quic,
            (22, true) => Ssh,
            (67 | 68, false) => Dhcp,
            (546 | 547, false) => Dhcpv6,
            (123, false) => Ntp,
            (137 | 138, false) | (139, true) => Netbios,
            (161 | 162, false) => Snmp,
            (514, false) | (6514, true) => Syslog,
            (25 | 587, true) => Smtp,
            (465, true) => Smtps,
            (110, true) => Pop3,
            (995, true) => Pop3s,
            (143, true) => Imap,
            (993, true) => Imaps,
            (21, true) => Ftp,
            (23, true) => Telnet,
            (3389, _) => Rdp,
            (445, true) => Smb,
            (389, _) => Ldap,
            (636, true) => Ldaps,
            (88, _) => Kerberos,
            (3306, true) => Mysql,
            (5432, true) => Postgresql,
            (6379, true) => Redis,
            (1883 | 8883, true) => Mqtt,
            (5060 | 5061, _) => Sip,
            (179, true) => Bgp,
            (1812 | 1813 | 1645 | 1646, false) => Radius,
            (1194, _) => Openvpn,
            (3478 | 5349, _) => Stun,
            (1900, false) => Ssdp,
            (69, false) => Tftp,
            (5900..=5903, true) => Vnc,
            _ => return None,
        };
        Some(p)
    }

    /// The port guess for a flow: the responder's port first, then the initiator's (a flow
    /// picked up mid-stream may have its initiator backwards).
    pub fn guess(ip_proto: u8, initiator_port: u16, responder_port: u16) -> AppProto {
        AppProto::for_port(ip_proto, responder_port)
            .or_else(|| AppProto::for_port(ip_proto, initiator_port))
            .unwrap_or(AppProto::Unknown)
    }
}

impl Serialize for AppProto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AppProto {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(AppProto::parse(&name).unwrap_or(AppProto::Unknown))
    }
}

/// How a flow's application protocol was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppSource {
    /// Not identified.
    #[default]
    None,
    /// Guessed from a well-known port: no payload confirmed it.
    Port,
    /// Recognised in the payload.
    Payload,
}

impl AppSource {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            AppSource::None => "none",
            AppSource::Port => "port",
            AppSource::Payload => "payload",
        }
    }
}

/// A flow's application protocol and how it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct AppLabel {
    /// The protocol.
    pub proto: AppProto,
    /// How it was found.
    pub source: AppSource,
}

impl AppLabel {
    /// The label a flow starts with: its port guess.
    pub fn from_ports(ip_proto: u8, initiator_port: u16, responder_port: u16) -> AppLabel {
        let proto = AppProto::guess(ip_proto, initiator_port, responder_port);
        AppLabel {
            proto,
            source: if proto == AppProto::Unknown {
                AppSource::None
            } else {
                AppSource::Port
            },
        }
    }

    /// A label found in the payload.
    pub fn payload(proto: AppProto) -> AppLabel {
        AppLabel {
            proto,
            source: AppSource::Payload,
        }
    }

    /// Whether the protocol is only a port guess.
    pub fn is_guess(&self) -> bool {
        self.source == AppSource::Port
    }
}

/// Where a flow's server name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// TLS ClientHello server name indication.
    TlsSni,
    /// QUIC Initial (decrypted ClientHello) or gQUIC CHLO server name.
    QuicSni,
    /// HTTP `Host` header.
    HttpHost,
    /// The (first) name a DNS flow asked about.
    DnsQuery,
    /// The responder's address appeared in a DNS answer seen earlier on the wire.
    PassiveDns,
}

/// HTTP request/response summary of a flow (the first exchange).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpSummary {
    /// Request method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `Host` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Request target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `User-Agent` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Response status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// TLS (or QUIC handshake) summary of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsSummary {
    /// Negotiated version (from the ServerHello), else the highest offered, e.g. `TLSv1.3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// ALPN protocols offered by the client.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub alpn: Vec<String>,
    /// Cipher suite chosen by the server (IANA number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<u16>,
    /// JA4 fingerprint section a (`t13d1516h2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4_a: Option<String>,
    /// The whole JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`), when the hello's
    /// cipher list and extensions were captured whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
}

/// SSH identification banners of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SshSummary {
    /// The initiator's banner software/version, e.g. `OpenSSH_9.2p1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The responder's banner software/version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// The names and application details found in a flow's payloads. Bounded: at most
/// [`MAX_DNS_QUERIES_PER_FLOW`] query names, and strings as cut by the decoders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppDetails {
    /// The server the flow talks to: TLS/QUIC SNI, HTTP host, DNS query, or the name the
    /// responder's address was resolved to on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Where `server_name` came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name_source: Option<NameSource>,
    /// Distinct DNS query names, in the order first seen.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dns_queries: Vec<String>,
    /// DNS responses by response code name (`NOERROR`, `NXDOMAIN`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub dns_rcodes: BTreeMap<String, u32>,
    /// First HTTP exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSummary>,
    /// TLS handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSummary>,
    /// QUIC version (IETF number, or the gQUIC `Q0xx` tag as a big-endian number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quic_version: Option<u32>,
    /// SSH banners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSummary>,
}

/// Distinct DNS query names kept per flow. A resolver flow (one client port reused for many
/// queries) would otherwise grow without bound; the first names show what the flow is about.
pub const MAX_DNS_QUERIES_PER_FLOW: usize = 4;

impl AppDetails {
    /// Sets the server name unless one from a stronger source is already there (SNI and HTTP
    /// host beat a DNS query, which beats a passive-DNS name).
    pub fn offer_server_name(&mut self, name: String, source: NameSource) {
        let rank = |s: NameSource| match s {
            NameSource::TlsSni | NameSource::QuicSni | NameSource::HttpHost => 2,
            NameSource::DnsQuery => 1,
            NameSource::PassiveDns => 0,
        };
        let better = match self.server_name_source {
            None => true,
            Some(old) => rank(source) > rank(old),
        };
        if better && !name.is_empty() {
            self.server_name = Some(name);
            self.server_name_source = Some(source);
        }
    }

    /// Adds a DNS query name unless it is already there or the list is full.
    pub fn add_dns_query(&mut self, name: &str) {
        if self.dns_queries.len() < MAX_DNS_QUERIES_PER_FLOW
            && !name.is_empty()
            && !self.dns_queries.iter().any(|q| q == name)
        {
            self.dns_queries.push(name.to_string());
        }
    }

    /// Counts one DNS response with response code `rcode` (its name).
    pub fn add_dns_rcode(&mut self, rcode: &str) {
        // At most 16 codes exist in the 4-bit header field, so the map stays small.
        *self.dns_rcodes.entry(rcode.to_string()).or_insert(0) += 1;
    }
}

/// Packets and bytes of one application protocol over an interval or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppCount {
    /// The protocol.
    pub app: AppProto,
    /// Packets of flows labelled with it (payload or port guess) at the time of the packet.
    pub packets: u64,
    /// Wire bytes of those packets.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (i, p) in AppProto::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
            assert!(seen.insert(p.name()));
            assert_eq!(AppProto::parse(p.name()), Some(*p));
        }
        assert_eq!(AppProto::parse("gopher"), None);
    }

    #[test]
    fn port_guess_prefers_the_responder_and_depends_on_transport() {
        assert_eq!(AppProto::guess(6, 51000, 443), AppProto::Tls);
        assert_eq!(AppProto::guess(17, 51000, 443), AppProto::Quic);
        assert_eq!(AppProto::guess(6, 443, 51000), AppProto::Tls);
        assert_eq!(AppProto::guess(6, 22, 80), AppProto::Http);
        assert_eq!(AppProto::guess(1, 0, 0), AppProto::Unknown);
        assert_eq!(AppProto::guess(17, 40000, 40001), AppProto::Unknown);
        let l = AppLabel::from_ports(17, 5353, 5353);
        assert_eq!((l.proto, l.is_guess()), (AppProto::Mdns, true));
        assert_eq!(AppLabel::from_ports(6, 1, 2).source, AppSource::None);
    }

    #[test]
    fn server_name_keeps_the_strongest_source() {
        let mut d = AppDetails::default();
        d.offer_server_name("cdn.example".into(), NameSource::PassiveDns);
        d.offer_server_name("www.example".into(), NameSource::TlsSni);
        d.offer_server_name("other.example".into(), NameSource::DnsQuery);
        assert_eq!(d.server_name.as_deref(), Some("www.example"));
        assert_eq!(d.server_name_source, Some(NameSource::TlsSni));
    }

    #[test]
    fn dns_queries_are_distinct_and_capped() {
        let mut d = AppDetails::default();
        for i in 0..10 {
            d.add_dns_query(&format!("q{}.example", i % 6));
        }
        assert_eq!(d.dns_queries.len(), MAX_DNS_QUERIES_PER_FLOW);
        assert_eq!(d.dns_queries[0], "q0.example");
    }

    #[test]
    fn app_proto_serializes_as_its_name() {
        let j = serde_json::to_string(&AppLabel::payload(AppProto::Quic)).unwrap_or_default();
        assert_eq!(j, r#"{"proto":"quic","source":"payload"}"#);
    }
}
