//! BPF expressions run over frames already captured (`extract FILE -o OUT 'host 10.0.1.1'`), as
//! `tcpdump -r FILE EXPRESSION` does: libpcap compiles the expression once per link type, and
//! its interpreter runs the program on each frame.

use super::capture::linktype_to_dlt;
use super::errors::{filter_error, pcap_message};
use crate::CaptureError;
use std::collections::HashMap;
use wirewatch_core::LinkType;

/// The most link types one filter compiles for (a capture holds a handful; a pcapng file
/// claiming thousands of interfaces of odd types only costs this many programs).
const MAX_PROGRAMS: usize = 64;

/// A BPF expression compiled for each link type it meets.
pub struct BpfFilter {
    expr: String,
    /// The program per link type; `None`: the expression does not compile for it (e.g.
    /// `ether host` on raw IP), so no frame of it matches.
    programs: HashMap<LinkType, Option<pcap::BpfProgram>>,
}

impl std::fmt::Debug for BpfFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpfFilter")
            .field("expr", &self.expr)
            .finish_non_exhaustive()
    }
}

/// Compiles `expr` for frames of `linktype` (libpcap's dead handle: no capture is opened).
///
/// Errors: [`CaptureError::BadFilter`] with libpcap's message.
pub(super) fn compile(expr: &str, linktype: LinkType) -> Result<pcap::BpfProgram, CaptureError> {
    let bad = |message: String| CaptureError::BadFilter {
        filter: expr.to_string(),
        message,
    };
    let dlt = linktype_to_dlt(linktype)
        .ok_or_else(|| bad(format!("unknown link type {}", linktype.0)))?;
    let dead = pcap::Capture::dead(pcap::Linktype(dlt)).map_err(|e| bad(pcap_message(&e)))?;
    dead.compile(expr, true).map_err(|e| filter_error(expr, &e))
}

impl BpfFilter {
    /// Compiles `expr` for Ethernet, so a bad expression is refused before any file is read.
    ///
    /// Errors: [`CaptureError::BadFilter`] with libpcap's message.
    pub fn new(expr: &str) -> Result<Self, CaptureError> {
        let expr = expr.trim().to_string();
        let program = compile(&expr, LinkType::ETHERNET)?;
        Ok(BpfFilter {
            programs: HashMap::from([(LinkType::ETHERNET, Some(program))]),
            expr,
        })
    }

    /// The expression.
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// Whether the frame's captured bytes match the expression.
    pub fn matches(&mut self, linktype: LinkType, data: &[u8]) -> bool {
        if !self.programs.contains_key(&linktype) && self.programs.len() < MAX_PROGRAMS {
            let program = compile(&self.expr, linktype).ok();
            self.programs.insert(linktype, program);
        }
        match self.programs.get(&linktype) {
            Some(Some(program)) => program.filter(data),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet/IPv4/UDP frame from 10.0.0.1:5000 to 10.0.0.2:53.
    fn udp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x08, 0x00]);
        f.extend([
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend([0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        f
    }

    #[test]
    fn matches_as_tcpdump_would() {
        let frame = udp_frame();
        let mut host = BpfFilter::new("host 10.0.0.2 and udp port 53").unwrap();
        assert!(host.matches(LinkType::ETHERNET, &frame));
        let mut other = BpfFilter::new("host 10.0.0.3").unwrap();
        assert!(!other.matches(LinkType::ETHERNET, &frame));
        let mut net = BpfFilter::new("net 10.0.0.0/8").unwrap();
        assert!(net.matches(LinkType::ETHERNET, &frame));
        // The same packet without its Ethernet header, as raw IP.
        assert!(net.matches(LinkType::RAW, &frame[14..]));
    }

    #[test]
    fn a_bad_expression_is_refused_with_libpcaps_message() {
        let err = BpfFilter::new("host 10.0.1.1 andd").unwrap_err();
        assert!(matches!(err, CaptureError::BadFilter { .. }), "{err}");
        assert!(err.to_string().contains("andd"), "{err}");
    }
}
