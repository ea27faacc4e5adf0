//! Packets and bytes per application protocol.

use wirewatch_core::{AppCount, AppProto};

/// Counters per application protocol: a fixed array indexed by [`AppProto`], so counting a
/// packet is one add and the memory never grows.
#[derive(Debug, Clone)]
pub struct AppCounters {
    counts: [(u64, u64); AppProto::COUNT],
}

impl Default for AppCounters {
    fn default() -> Self {
        AppCounters {
            counts: [(0, 0); AppProto::COUNT],
        }
    }
}

impl AppCounters {
    /// Counts one packet of `wire_len` bytes of a flow labelled `app`.
    #[inline]
    pub fn record(&mut self, app: AppProto, wire_len: u32) {
        if let Some(c) = self.counts.get_mut(app as usize) {
            c.0 += 1;
            c.1 += u64::from(wire_len);
        }
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &AppCounters) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            a.0 += b.0;
            a.1 += b.1;
        }
    }

    /// Protocols with packets, most bytes first (ties by name).
    pub fn to_vec(&self) -> Vec<AppCount> {
        let mut v: Vec<AppCount> = AppProto::ALL
            .iter()
            .zip(self.counts.iter())
            .filter(|(_, c)| c.0 > 0)
            .map(|(app, c)| AppCount {
                app: *app,
                packets: c.0,
                bytes: c.1,
            })
            .collect();
        v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.app.name().cmp(b.app.name())));
        v
    }

    /// Resets every counter.
    pub fn clear(&mut self) {
        self.counts = [(0, 0); AppProto::COUNT];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_and_sort_by_bytes() {
        let mut a = AppCounters::default();
        a.record(AppProto::Dns, 80);
        a.record(AppProto::Tls, 1500);
        a.record(AppProto::Dns, 120);
        let mut b = AppCounters::default();
        b.record(AppProto::Unknown, 60);
        b.merge(&a);
        let v = b.to_vec();
        let names: Vec<_> = v
            .iter()
            .map(|c| (c.app.name(), c.packets, c.bytes))
            .collect();
        assert_eq!(
            names,
            vec![("tls", 1, 1500), ("dns", 2, 200), ("unknown", 1, 60)]
        );
        b.clear();
        assert!(b.to_vec().is_empty());
    }
}
