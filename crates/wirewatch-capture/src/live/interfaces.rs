//! The network interfaces libpcap can capture on, and the choice of the default one.
//!
//! Owns describing interfaces in our own terms ([`InterfaceInfo`], serialisable for the
//! `interfaces --json` output) and picking the one to monitor when the user names none. It opens
//! nothing: listing needs no privileges.

use crate::error::CaptureError;
use crate::live::errors::pcap_message;
use serde::Serialize;
use std::net::IpAddr;

/// Name prefixes of libpcap's pseudo-devices on Linux: netfilter log and queue, D-Bus, Bluetooth
/// and USB monitors. They capture something other than a network interface's traffic, so they
/// are never chosen as the default.
const PSEUDO_DEVICE_PREFIXES: [&str; 5] = ["nflog", "nfqueue", "dbus", "bluetooth", "usbmon"];

/// libpcap's pseudo-device that merges all interfaces (with cooked link headers).
const ANY_DEVICE: &str = "any";

/// One interface as libpcap lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceInfo {
    /// The name to capture on (`eth0`, `en0`, ...).
    pub name: String,
    /// libpcap's description, when it has one (pseudo-devices, Npcap adapters).
    pub description: Option<String>,
    /// The interface's IPv4 and IPv6 addresses.
    pub addresses: Vec<IpAddr>,
    /// Administratively up.
    pub up: bool,
    /// Operationally up (carrier present).
    pub running: bool,
    /// A loopback interface.
    pub loopback: bool,
    /// A wireless interface (Wi-Fi, but also other radios and IrDA).
    pub wireless: bool,
}

impl InterfaceInfo {
    /// Our description of a libpcap device (kept private so that `pcap` stays out of the API).
    fn from_device(d: pcap::Device) -> Self {
        InterfaceInfo {
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            name: d.name,
            description: d.desc,
        }
    }
}

/// Every interface libpcap can capture on, in libpcap's order (which puts interfaces that are up
/// and have addresses first).
///
/// Errors: [`CaptureError::ListInterfaces`] with libpcap's message.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, CaptureError> {
    pcap::Device::list()
        .map(|list| list.into_iter().map(InterfaceInfo::from_device).collect())
        .map_err(|e| CaptureError::ListInterfaces {
            message: pcap_message(&e),
        })
}

/// Whether `name` is one of libpcap's pseudo-devices ("any", nflog, nfqueue, D-Bus, Bluetooth,
/// usbmon) rather than a network interface.
pub fn is_pseudo_device(name: &str) -> bool {
    name == ANY_DEVICE || PSEUDO_DEVICE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The interface to monitor by default: the first in `list` that is up, not loopback, has an
/// address and is not a pseudo-device. `None` when there is no such interface.
pub fn default_interface(list: &[InterfaceInfo]) -> Option<&InterfaceInfo> {
    list.iter()
        .find(|i| i.up && !i.loopback && !i.addresses.is_empty() && !is_pseudo_device(&i.name))
}
