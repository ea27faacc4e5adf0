//! The live capture handle: configuration, reading frames, filters and drop counters.
//!
//! Owns one libpcap handle on one interface. Frames borrow libpcap's ring buffer, so each must be
//! dropped before the next read, as with [`crate::FileSource`]. It must not decode packets or
//! block without bound: every read returns within about the configured read timeout.

use super::errors::{filter_error, open_error, pcap_message};
use super::interfaces::{default_interface, list_interfaces};
use super::precision;
use super::timeout::{self, TimeoutThread};
use crate::error::CaptureError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wirewatch_core::{Frame, LinkType, Timestamp};

/// Default snapshot length: libpcap's maximum (256 KiB), so that no frame is cut, including the
/// 64 KiB super-frames that receive offload (GRO/LRO) hands to the capture socket.
pub const DEFAULT_SNAPLEN: i32 = 262_144;

/// Default kernel buffer size: 16 MiB holds about a tenth of a second of a saturated 1 Gbit/s
/// link, enough to ride out a pause of the capture thread (libpcap's own default is 2 MiB).
pub const DEFAULT_BUFFER_SIZE: i32 = 16 * 1024 * 1024;

/// Default read timeout: a quiet capture returns `Ok(None)` about ten times a second, often
/// enough for the capture thread to apply a filter or stop promptly, rare enough to cost nothing.
pub const DEFAULT_READ_TIMEOUT_MS: i32 = 100;

/// How to open a live capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// The interface to capture on; empty for the [`default_interface`].
    pub interface: String,
    /// Snapshot length: the most bytes kept of each frame (0 or less: libpcap's maximum).
    pub snaplen: i32,
    /// Promiscuous mode: also capture frames addressed to other hosts.
    pub promisc: bool,
    /// Kernel buffer size in bytes.
    pub buffer_size: i32,
    /// Immediate mode: deliver each packet at once instead of in batches. On Linux it switches
    /// libpcap to fixed-size ring slots sized for the largest frame, so the same buffer holds far
    /// fewer packets: 256 in 16 MiB on `lo` (measured; each datagram there takes two), and as few
    /// on an Ethernet interface with receive offload. Buffered mode packs packets tightly, so
    /// it is the default: a burst loses nothing, at the cost of up to one read timeout of delay.
    pub immediate: bool,
    /// Read timeout in milliseconds: how long [`LiveCapture::next_frame`] waits on a quiet
    /// interface before returning `Ok(None)`. 0 or less: wait until a packet arrives.
    pub read_timeout_ms: i32,
    /// BPF filter expression; `None` or empty captures everything.
    pub filter: Option<String>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            interface: String::new(),
            snaplen: DEFAULT_SNAPLEN,
            promisc: true,
            buffer_size: DEFAULT_BUFFER_SIZE,
            immediate: false,
            read_timeout_ms: DEFAULT_READ_TIMEOUT_MS,
            filter: None,
        }
    }
}

/// Cumulative capture counters since the capture was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets that passed the filter (on Linux including the ones then dropped, and counting
    /// each packet on `lo` twice, as the kernel shows it once outgoing and once incoming).
    pub received: u64,
    /// Packets dropped because the kernel buffer was full (the reader fell behind).
    pub dropped_kernel: u64,
    /// Packets dropped by the interface or its driver (not all platforms report them).
    pub dropped_interface: u64,
}

/// libpcap's counters are 32-bit and wrap; this widens them by accumulating the differences
/// between successive reads (exact as long as [`LiveCapture::stats`] is called at least once
/// per 2³² packets, which the capture thread's periodic refresh guarantees by far).
#[derive(Debug, Default)]
struct StatsCounter {
    last: (u32, u32, u32),
    total: LiveStats,
}

impl StatsCounter {
    fn update(&mut self, s: pcap::Stat) -> LiveStats {
        let (recv, drop, ifdrop) = self.last;
        self.total.received += u64::from(s.received.wrapping_sub(recv));
        self.total.dropped_kernel += u64::from(s.dropped.wrapping_sub(drop));
        self.total.dropped_interface += u64::from(s.if_dropped.wrapping_sub(ifdrop));
        self.last = (s.received, s.dropped, s.if_dropped);
        self.total
    }
}

/// A live capture on one interface.
///
/// It is `Send`, so it can be opened on one thread and read on another. Frames borrow libpcap's
/// buffer: drop each before calling [`LiveCapture::next_frame`] again.
pub struct LiveCapture {
    // Declared first so that the timeout thread is told to stop before the handle closes.
    _timeout: Option<TimeoutThread>,
    cap: pcap::Capture<pcap::Active>,
    interface: String,
    linktype: LinkType,
    nanosecond: bool,
    filter: Option<String>,
    delivered: u64,
    progress: Arc<AtomicU64>,
    stats: StatsCounter,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("linktype", &self.linktype)
            .field("filter", &self.filter)
            .field("nanosecond", &self.nanosecond)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens `config.interface` (or, when it is empty, the [`default_interface`]) and installs
    /// `config.filter`.
    ///
    /// Errors: [`CaptureError::PermissionDenied`] (not root and no `CAP_NET_RAW`),
    /// [`CaptureError::NoSuchInterface`], [`CaptureError::InterfaceDown`],
    /// [`CaptureError::NoDefaultInterface`], [`CaptureError::ListInterfaces`],
    /// [`CaptureError::BadFilter`], [`CaptureError::Live`] for anything else libpcap reports.
    pub fn open(config: &LiveConfig) -> Result<LiveCapture, CaptureError> {
        let interface = if config.interface.trim().is_empty() {
            let list = list_interfaces()?;
            default_interface(&list)
                .map(|i| i.name.clone())
                .ok_or(CaptureError::NoDefaultInterface)?
        } else {
            config.interface.clone()
        };
        let mut cap = pcap::Capture::from_device(interface.as_str())
            .map_err(|e| open_error(&interface, &e))?
            .snaplen(config.snaplen)
            .promisc(config.promisc)
            .buffer_size(config.buffer_size)
            .immediate_mode(config.immediate)
            .timeout(config.read_timeout_ms.max(0))
            .precision(pcap::Precision::Nano)
            .open()
            .map_err(|e| open_error(&interface, &e))?;
        let linktype = dlt_to_linktype(cap.get_datalink().0);
        // libpcap keeps microseconds when the platform refuses nanoseconds (the `pcap` crate
        // drops that status), so ask the handle; where it cannot be asked (no /dev/fd, as on
        // Windows), assume the request was honoured.
        let nanosecond = precision::uses_nanoseconds(&cap).unwrap_or(true);
        let progress = Arc::new(AtomicU64::new(0));
        let timeout = match u64::try_from(config.read_timeout_ms) {
            Ok(ms) if ms > 0 => Some(
                timeout::spawn(
                    cap.breakloop_handle(),
                    progress.clone(),
                    Duration::from_millis(ms),
                    &interface,
                )
                .map_err(|e| CaptureError::Live {
                    interface: interface.clone(),
                    message: format!("cannot start the read-timeout thread: {e}"),
                })?,
            ),
            _ => None,
        };
        let mut live = LiveCapture {
            _timeout: timeout,
            cap,
            interface,
            linktype,
            nanosecond,
            filter: None,
            delivered: 0,
            progress,
            stats: StatsCounter::default(),
        };
        live.set_filter(config.filter.as_deref())?;
        Ok(live)
    }

    /// The next packet, or `Ok(None)` when the read timeout expired with nothing to read.
    ///
    /// On a quiet interface the call returns between one and two read timeouts after the last
    /// packet. Errors: [`CaptureError::Live`] (for example when the interface goes away).
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        match self.cap.next_packet() {
            Ok(packet) => {
                self.delivered += 1;
                self.progress.store(self.delivered, Ordering::Relaxed);
                let h = packet.header;
                Ok(Some(Frame {
                    ts: timestamp(h.ts.tv_sec, h.ts.tv_usec, self.nanosecond),
                    linktype: self.linktype,
                    data: packet.data,
                    wire_len: h.len.max(h.caplen),
                    interface: 0,
                }))
            }
            // TimeoutExpired: libpcap's own read timeout. NoMorePackets: the `pcap` crate's name
            // for PCAP_ERROR_BREAK, which the timeout thread causes.
            Err(pcap::Error::TimeoutExpired | pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(CaptureError::Live {
                interface: self.interface.clone(),
                message: pcap_message(&e),
            }),
        }
    }

    /// Replaces the BPF filter (`None` or empty: capture everything). On error the old filter
    /// stays in force.
    ///
    /// libpcap applies the new filter to packets already buffered but not yet read too, so
    /// after a successful switch only packets matching the new filter are delivered.
    ///
    /// Errors: [`CaptureError::BadFilter`] with libpcap's message.
    pub fn set_filter(&mut self, filter: Option<&str>) -> Result<(), CaptureError> {
        let expr = filter.map(str::trim).filter(|f| !f.is_empty());
        self.cap
            .filter(expr.unwrap_or(""), true)
            .map_err(|e| filter_error(expr.unwrap_or(""), &e))?;
        self.filter = expr.map(String::from);
        Ok(())
    }

    /// Cumulative counters since open: packets received by the filter, dropped by the kernel
    /// (buffer full), dropped by the interface/driver.
    ///
    /// Errors: [`CaptureError::Live`] when libpcap cannot read them.
    pub fn stats(&mut self) -> Result<LiveStats, CaptureError> {
        let s = self.cap.stats().map_err(|e| CaptureError::Live {
            interface: self.interface.clone(),
            message: pcap_message(&e),
        })?;
        Ok(self.stats.update(s))
    }

    /// The link-layer header type of every frame of this capture.
    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// The interface captured on (the default interface's name when the config left it empty).
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The filter in force, `None` when everything is captured.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// Whether libpcap delivers nanosecond timestamps; otherwise they have microsecond precision
    /// (and are scaled to nanoseconds in [`Frame::ts`]).
    pub fn nanosecond_timestamps(&self) -> bool {
        self.nanosecond
    }
}

/// Packet time from a pcap header, whose fraction holds nanoseconds or microseconds. Negative
/// values (a clock before 1970) become 0.
fn timestamp<S, F>(secs: S, fraction: F, nanosecond: bool) -> Timestamp
where
    u64: TryFrom<S> + TryFrom<F>,
{
    let secs = u64::try_from(secs).unwrap_or(0);
    let fraction = u64::try_from(fraction).unwrap_or(0);
    let nanos = if nanosecond {
        fraction
    } else {
        fraction.saturating_mul(1000)
    };
    Timestamp::from_secs_nanos(secs, nanos)
}

/// libpcap's `DLT_RAW` (raw IP) on this platform. Its number differs between systems, which is
/// why files store `LINKTYPE_RAW` (101) instead; every other link type a live capture reports
/// here has the same number as a DLT and as a LINKTYPE.
#[cfg(not(target_os = "openbsd"))]
const DLT_RAW: i32 = 12;
/// libpcap's `DLT_RAW` on OpenBSD.
#[cfg(target_os = "openbsd")]
const DLT_RAW: i32 = 14;

/// The link type a capture file would record for a handle's DLT, so that frames of a live capture
/// and of its saved file carry the same [`LinkType`] (libpcap's `dlt_to_linktype`, for the DLTs
/// live captures report).
fn dlt_to_linktype(dlt: i32) -> LinkType {
    if dlt == DLT_RAW {
        return LinkType::RAW;
    }
    // DLTs are small and non-negative; -1 means none, which no activated handle has.
    LinkType(u32::try_from(dlt).unwrap_or(u32::MAX))
}

/// The DLT to compile a filter for frames of `linktype` (the inverse of [`dlt_to_linktype`]).
pub(super) fn linktype_to_dlt(linktype: LinkType) -> Option<i32> {
    if linktype == LinkType::RAW {
        return Some(DLT_RAW);
    }
    i32::try_from(linktype.0).ok()
}

/// Compiles `filter` for frames of `linktype` without capturing, to validate it before switching.
/// An empty filter is valid (it captures everything).
///
/// `snaplen` is accepted for symmetry with the capture; whether an expression compiles does not
/// depend on it (the check uses libpcap's 65,535-byte dead handle).
///
/// Errors: [`CaptureError::BadFilter`] with libpcap's message.
pub fn check_filter(filter: &str, linktype: LinkType, snaplen: i32) -> Result<(), CaptureError> {
    let _ = snaplen;
    let expr = filter.trim();
    if expr.is_empty() {
        return Ok(());
    }
    super::bpf::compile(expr, linktype).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_scale_microseconds() {
        assert_eq!(
            timestamp(1_700_000_000i64, 123_456_789i64, true),
            Timestamp(1_700_000_000_123_456_789)
        );
        assert_eq!(
            timestamp(1_700_000_000i64, 123_456i64, false),
            Timestamp(1_700_000_000_123_456_000)
        );
        assert_eq!(timestamp(-5i64, -1i32, true), Timestamp(0));
    }

    #[test]
    fn raw_ip_uses_the_file_link_type() {
        assert_eq!(dlt_to_linktype(DLT_RAW), LinkType::RAW);
        assert_eq!(dlt_to_linktype(1), LinkType::ETHERNET);
        assert_eq!(dlt_to_linktype(113), LinkType::LINUX_SLL);
        assert_eq!(linktype_to_dlt(LinkType::RAW), Some(DLT_RAW));
        assert_eq!(linktype_to_dlt(LinkType::LINUX_SLL2), Some(276));
        assert_eq!(linktype_to_dlt(LinkType(u32::MAX)), None);
    }

    #[test]
    fn stats_survive_wraparound() {
        let mut c = StatsCounter::default();
        let stat = |received, dropped, if_dropped| pcap::Stat {
            received,
            dropped,
            if_dropped,
        };
        assert_eq!(c.update(stat(10, 1, 0)).received, 10);
        c.update(stat(u32::MAX - 5, 2, 0));
        let s = c.update(stat(4, 3, 7));
        assert_eq!(s.received, u64::from(u32::MAX) + 5);
        assert_eq!(s.dropped_kernel, 3);
        assert_eq!(s.dropped_interface, 7);
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = LiveConfig::default();
        assert_eq!(c.interface, "");
        assert_eq!(c.snaplen, 262_144);
        assert!(c.promisc && !c.immediate);
        assert_eq!(c.buffer_size, 16 << 20);
        assert_eq!(c.read_timeout_ms, 100);
        assert_eq!(c.filter, None);
    }

    #[test]
    fn live_capture_is_send() {
        fn send<T: Send>() {}
        send::<LiveCapture>();
    }
}
