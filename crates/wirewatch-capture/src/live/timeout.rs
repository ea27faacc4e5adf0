//! The read-timeout helper: makes a blocked read on a quiet interface return.
//!
//! libpcap 1.10 on Linux waits in `poll` without a timeout once its ring is empty (TPACKET_V3
//! leaves the timeout to the kernel, which does not wake a reader for an empty block, and the
//! TPACKET_V2 path of immediate mode was measured to block as well). A reader that must react to
//! commands would hang on a quiet interface. This thread wakes once per read timeout and, when the
//! reader has delivered no packet since the previous wake-up, calls `pcap_breakloop`, which wakes
//! the blocked `poll` (libpcap ≥ 1.10 uses an eventfd for that on Linux; elsewhere the read
//! timeout itself works and the break only shortens it). It owns no capture state: it holds a
//! weak handle, and it ends as soon as the capture is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// Keeps the helper thread alive; dropping it stops the thread at once.
pub(crate) struct TimeoutThread {
    _stop: Sender<()>,
}

/// Starts the helper for a capture whose reader publishes its delivered-packet count in
/// `progress`. A break is requested only after a full `period` without progress, so a busy
/// capture is never interrupted.
pub(crate) fn spawn(
    breaker: pcap::BreakLoop,
    progress: Arc<AtomicU64>,
    period: Duration,
    interface: &str,
) -> std::io::Result<TimeoutThread> {
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(format!("pcap-timeout-{interface}"))
        .spawn(move || {
            let mut seen = progress.load(Ordering::Relaxed);
            // Disconnected (the capture was dropped) ends the loop; nothing is ever sent.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                let now = progress.load(Ordering::Relaxed);
                if now == seen {
                    breaker.breakloop();
                }
                seen = now;
            }
        })?;
    Ok(TimeoutThread { _stop: stop })
}
