//! Turning libpcap's error messages into [`CaptureError`] variants that tell the user what to do.
//!
//! libpcap reports why activating a handle failed through a status code, but the `pcap` crate
//! only passes on the message text, so the kind of failure is recognised from that text. The
//! strings matched are the ones libpcap 1.10 produces on Linux (observed, see the tests) plus the
//! BSD/macOS and Npcap wordings of the same conditions.

use crate::error::CaptureError;

/// Phrases in a libpcap message that mean the process may not capture.
const PERMISSION_PHRASES: [&str; 4] = [
    // Linux: "socket: Operation not permitted" (no CAP_NET_RAW).
    "operation not permitted",
    // BSD/macOS: "(cannot open BPF device) /dev/bpf0: Permission denied".
    "permission denied",
    // pcap_statustostr(PCAP_ERROR_PERM_DENIED).
    "you don't have permission",
    // Npcap without administrator rights.
    "access is denied",
];

/// Phrases that mean the interface does not exist.
const NO_SUCH_PHRASES: [&str; 4] = [
    // Linux, pcap_statustostr(PCAP_ERROR_NO_SUCH_DEVICE): "No such device exists";
    // older releases: "SIOCGIFINDEX: No such device".
    "no such device",
    "no such interface",
    // BSD/macOS: "BIOCSETIF: foo0: Device not configured".
    "device not configured",
    // Npcap: "The system cannot find the device specified."
    "cannot find the device",
];

/// Phrases that mean the interface exists but is down.
const DOWN_PHRASES: [&str; 2] = [
    // pcap_statustostr(PCAP_ERROR_IFACE_NOT_UP): "That device is not up".
    "is not up",
    "network is down",
];

/// The text of a `pcap` error without the crate's "libpcap error: " prefix.
pub(crate) fn pcap_message(err: &pcap::Error) -> String {
    match err {
        pcap::Error::PcapError(text) => text.clone(),
        pcap::Error::InvalidInputString => "the name contains a NUL byte".to_string(),
        other => other.to_string(),
    }
}

/// The error for a failure to create or activate a capture handle on `interface`.
pub(crate) fn open_error(interface: &str, err: &pcap::Error) -> CaptureError {
    classify_open_message(interface, &pcap_message(err))
}

/// Classifies libpcap's message for a failed open of `interface`.
pub(crate) fn classify_open_message(interface: &str, message: &str) -> CaptureError {
    let lower = message.to_ascii_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
    let interface = interface.to_string();
    let message = message.to_string();
    if has(&PERMISSION_PHRASES) {
        CaptureError::PermissionDenied { interface, message }
    } else if has(&NO_SUCH_PHRASES) {
        CaptureError::NoSuchInterface { interface, message }
    } else if has(&DOWN_PHRASES) {
        CaptureError::InterfaceDown { interface, message }
    } else {
        CaptureError::Live { interface, message }
    }
}

/// The error for a filter expression libpcap did not compile or install.
pub(crate) fn filter_error(filter: &str, err: &pcap::Error) -> CaptureError {
    CaptureError::BadFilter {
        filter: filter.to_string(),
        message: pcap_message(err),
    }
}

/// The path to show in the `setcap` hint: this executable, or a placeholder when it is unknown.
pub(crate) fn setcap_target() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "/path/to/wirewatch".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The messages below are the ones libpcap 1.10.3 returned on Linux (Debian 12) through the
    // `pcap` crate: as user nobody for any interface, and as root for a missing or down one.

    #[test]
    fn permission_denied_is_recognised() {
        let e = classify_open_message("lo", "socket: Operation not permitted");
        assert!(
            matches!(&e, CaptureError::PermissionDenied { interface, .. } if interface == "lo")
        );
        let text = e.to_string();
        assert!(text.starts_with("cannot capture on lo: permission denied (socket: Operation"));
        assert!(text.contains("sudo setcap cap_net_raw,cap_net_admin=eip "));
        assert!(text.contains(&setcap_target()));
        for m in [
            "(cannot open BPF device) /dev/bpf0: Permission denied",
            "You don't have permission to capture on that device",
        ] {
            assert!(matches!(
                classify_open_message("en0", m),
                CaptureError::PermissionDenied { .. }
            ));
        }
    }

    #[test]
    fn missing_interface_is_recognised() {
        let e = classify_open_message("nosuch0", "No such device exists");
        assert!(matches!(e, CaptureError::NoSuchInterface { .. }));
        assert_eq!(
            e.to_string(),
            "cannot capture on nosuch0: no such interface (No such device exists); list the \
             interfaces with `wirewatch interfaces`"
        );
        assert!(matches!(
            classify_open_message("foo0", "BIOCSETIF: foo0: Device not configured"),
            CaptureError::NoSuchInterface { .. }
        ));
    }

    #[test]
    fn down_interface_is_recognised() {
        let e = classify_open_message("ifb0", "That device is not up");
        assert!(matches!(e, CaptureError::InterfaceDown { .. }));
        assert!(e.to_string().contains("sudo ip link set ifb0 up"));
    }

    #[test]
    fn anything_else_is_a_live_error() {
        let e = classify_open_message("eth0", "can't mmap rx ring: Cannot allocate memory");
        assert_eq!(
            e.to_string(),
            "cannot capture on eth0: can't mmap rx ring: Cannot allocate memory"
        );
    }

    #[test]
    fn crate_prefix_is_dropped() {
        let e = pcap::Error::PcapError("unknown port 'banana'".into());
        assert_eq!(pcap_message(&e), "unknown port 'banana'");
        assert_eq!(
            filter_error("udp port banana", &e).to_string(),
            "invalid capture filter `udp port banana`: unknown port 'banana'"
        );
    }
}
