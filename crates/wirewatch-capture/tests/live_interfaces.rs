//! Listing interfaces and choosing the default one (no privileges needed).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_capture::live::{
    InterfaceInfo, default_interface, is_pseudo_device, list_interfaces,
};

fn iface(name: &str, up: bool, loopback: bool, addresses: &[IpAddr]) -> InterfaceInfo {
    InterfaceInfo {
        name: name.into(),
        description: None,
        addresses: addresses.to_vec(),
        up,
        running: up,
        loopback,
        wireless: false,
    }
}

const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
const V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn lo_is_listed_as_an_up_loopback_with_127_0_0_1() {
    let list = list_interfaces().unwrap();
    let lo = list
        .iter()
        .find(|i| i.name == "lo")
        .unwrap_or_else(|| panic!("no lo in {list:?}"));
    assert!(lo.loopback && lo.up, "{lo:?}");
    assert!(lo.addresses.contains(&LOCALHOST), "{lo:?}");
    assert!(!lo.wireless);
}

#[test]
fn the_default_of_the_real_list_is_never_loopback_or_pseudo() {
    let list = list_interfaces().unwrap();
    if let Some(d) = default_interface(&list) {
        assert!(d.up && !d.loopback && !d.addresses.is_empty(), "{d:?}");
        assert!(!is_pseudo_device(&d.name));
    }
}

#[test]
fn default_skips_down_loopback_addressless_and_pseudo_devices() {
    let list = [
        iface("lo", true, true, &[LOCALHOST]),
        iface("any", true, false, &[V4]),
        iface("nflog", true, false, &[V4]),
        iface("nfqueue", true, false, &[V4]),
        iface("dbus-system", true, false, &[V4]),
        iface("bluetooth-monitor", true, false, &[V4]),
        iface("usbmon1", true, false, &[V4]),
        iface("eth1", false, false, &[V4]),
        iface("eth2", true, false, &[]),
        iface("wlan0", true, false, &[V6]),
        iface("eth0", true, false, &[V4]),
    ];
    assert_eq!(default_interface(&list).unwrap().name, "wlan0");
    assert_eq!(default_interface(&list[..9]), None);
    assert_eq!(default_interface(&[]), None);
}

#[test]
fn default_takes_the_first_eligible() {
    let list = [
        iface("eth0", true, false, &[V4]),
        iface("eth1", true, false, &[V4]),
    ];
    assert_eq!(default_interface(&list).unwrap().name, "eth0");
}

#[test]
fn pseudo_devices_are_recognised_by_name() {
    for name in [
        "any",
        "nflog",
        "nfqueue",
        "dbus-system",
        "dbus-session",
        "bluetooth0",
        "bluetooth-monitor",
        "usbmon0",
    ] {
        assert!(is_pseudo_device(name), "{name}");
    }
    for name in ["eth0", "enp3s0", "wlan0", "anycast0", "lo"] {
        assert!(!is_pseudo_device(name), "{name}");
    }
}

#[test]
fn interfaces_serialise_for_the_json_listing() {
    let mut i = iface("eth0", true, false, &[V4, V6]);
    i.description = Some("uplink".into());
    let json = serde_json::to_value(&i).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "eth0",
            "description": "uplink",
            "addresses": ["192.0.2.7", "fe80::1"],
            "up": true,
            "running": true,
            "loopback": false,
            "wireless": false,
        })
    );
}
