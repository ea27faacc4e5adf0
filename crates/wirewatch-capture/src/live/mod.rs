//! Live capture on network interfaces through libpcap (the `pcap` crate).
//!
//! Owns opening an interface ([`LiveCapture`]), handing out its packets as borrowed
//! [`wirewatch_core::Frame`]s with nanosecond timestamps, replacing the BPF filter at run time,
//! reporting libpcap's drop counters ([`LiveStats`]), and listing the interfaces
//! ([`list_interfaces`], [`default_interface`]). Every libpcap failure becomes a
//! [`CaptureError`](crate::CaptureError) that names the interface or filter and says what to do.
//! It must not decode packets or read the wall clock: frame timestamps come from the kernel.
//!
//! Layout:
//! - `bpf`: BPF expressions run over frames already captured (files, as `tcpdump -r` does);
//! - `capture`: the capture handle, its configuration, statistics and filter checks;
//! - `interfaces`: the interface list and the choice of the default interface;
//! - `errors`: turning libpcap's messages into [`CaptureError`](crate::CaptureError) variants;
//! - `precision`: asking a handle whether it delivers nanosecond or microsecond timestamps;
//! - `timeout`: the helper thread that makes a quiet interface's reads return (see below).
//!
//! Why a helper thread: libpcap 1.10 on Linux does not honour the read timeout while no packet
//! arrives (measured: a read on a quiet `lo` with a 100 ms timeout blocks indefinitely, in both
//! immediate and buffered mode). The capture thread must still wake up to apply a new filter or
//! to stop, so a small thread calls `pcap_breakloop` once no packet has been delivered for a whole
//! read timeout; the blocked read then returns `Ok(None)`.

mod bpf;
mod capture;
mod errors;
mod interfaces;
mod precision;
mod timeout;

pub use bpf::BpfFilter;
pub use capture::{
    DEFAULT_BUFFER_SIZE, DEFAULT_READ_TIMEOUT_MS, DEFAULT_SNAPLEN, LiveCapture, LiveConfig,
    LiveStats, check_filter,
};
pub use interfaces::{InterfaceInfo, default_interface, is_pseudo_device, list_interfaces};

pub(crate) use errors::setcap_target;
