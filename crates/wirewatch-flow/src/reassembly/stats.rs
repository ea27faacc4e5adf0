//! What the reassembler did: fragments refused and datagrams given up, each by reason, and the
//! signals a detector can turn into alerts (overlaps, tiny first fragments).

/// Why a fragment was not kept. Its datagram goes on unless the reason says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FragmentDrop {
    /// The capture holds fewer bytes than the header announces (snap length): the missing bytes
    /// cannot be reassembled (Zeek's `incompletely_captured_fragment`).
    Truncated,
    /// The header contradicts itself: an IPv4 total length inside the header, an IPv6 fragment
    /// with a payload length of 0 (jumbograms are never fragmented), or a [`FragmentRef`]
    /// whose parts do not fit together.
    ///
    /// [`FragmentRef`]: super::FragmentRef
    Malformed,
    /// A fragment with no data, or one that is not the last whose length is not a multiple of
    /// 8 bytes (RFC 791, RFC 8200 §4.5).
    BadLength,
    /// The fragment ends past the largest datagram its version allows (65,535 bytes of IPv4
    /// total length, 65,535 bytes of IPv6 payload length).
    TooLarge,
    /// The fragment ends past the end set by the datagram's last fragment, or it is a last
    /// fragment whose end contradicts the end already known or data already held (Zeek's
    /// `fragment_size_inconsistency`).
    PastEnd,
    /// Every byte of the fragment is already held, with the same value. (A last fragment still
    /// sets where its datagram ends, and may complete it.)
    Duplicate,
    /// Every byte of the fragment is already held and some differ: the bytes held first are
    /// kept (the overlap policy), the fragment is dropped and counted as an overlap conflict.
    Overlap,
    /// Holding the fragment would exceed the memory cap even after evicting older datagrams.
    Memory,
    /// The datagram already held the most fragments allowed: the datagram is abandoned
    /// ([`DatagramDrop::TooManyFragments`]) and this fragment with it.
    TooManyFragments,
}

impl FragmentDrop {
    /// Every reason, in a stable order.
    pub const ALL: [FragmentDrop; 9] = [
        FragmentDrop::Truncated,
        FragmentDrop::Malformed,
        FragmentDrop::BadLength,
        FragmentDrop::TooLarge,
        FragmentDrop::PastEnd,
        FragmentDrop::Duplicate,
        FragmentDrop::Overlap,
        FragmentDrop::Memory,
        FragmentDrop::TooManyFragments,
    ];

    /// Snake-case name for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            FragmentDrop::Truncated => "truncated",
            FragmentDrop::Malformed => "malformed",
            FragmentDrop::BadLength => "bad_length",
            FragmentDrop::TooLarge => "too_large",
            FragmentDrop::PastEnd => "past_end",
            FragmentDrop::Duplicate => "duplicate",
            FragmentDrop::Overlap => "overlap",
            FragmentDrop::Memory => "memory",
            FragmentDrop::TooManyFragments => "too_many_fragments",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a datagram was given up before it was complete; every fragment it held is freed (and
/// counted in [`ReassemblyStats::fragments_abandoned`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DatagramDrop {
    /// Its time ran out (packet time since its first fragment arrived).
    Timeout,
    /// It would have needed more fragments than allowed per datagram.
    TooManyFragments,
    /// Evicted, oldest first, so that another fragment fits under the memory cap.
    Memory,
    /// Evicted, oldest first, because the most datagrams allowed were in flight.
    Capacity,
    /// Complete, but its first fragment's header plus the data is larger than the version
    /// allows (65,535 bytes).
    TooLarge,
    /// Still incomplete when the reassembler was flushed (end of the capture).
    Flushed,
}

impl DatagramDrop {
    /// Every reason, in a stable order.
    pub const ALL: [DatagramDrop; 6] = [
        DatagramDrop::Timeout,
        DatagramDrop::TooManyFragments,
        DatagramDrop::Memory,
        DatagramDrop::Capacity,
        DatagramDrop::TooLarge,
        DatagramDrop::Flushed,
    ];

    /// Snake-case name for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            DatagramDrop::Timeout => "timeout",
            DatagramDrop::TooManyFragments => "too_many_fragments",
            DatagramDrop::Memory => "memory",
            DatagramDrop::Capacity => "capacity",
            DatagramDrop::TooLarge => "too_large",
            DatagramDrop::Flushed => "flushed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters of the reassembler's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Fragments handed in (IPv6 atomic fragments included, unfragmented packets not).
    pub fragments: u64,
    /// IPv6 atomic fragments (offset 0, no more fragments; RFC 6946): passed through, not held.
    pub atomic: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Fragments that overlapped bytes already held, all with the same value, and brought new
    /// bytes too (Zeek's `fragment_overlap`). Not a drop: the new bytes are kept.
    pub overlaps: u64,
    /// Fragments that overlapped bytes already held with different values (Zeek's
    /// `fragment_inconsistency`): the evasion signal. The bytes held first win; the fragment's
    /// other bytes are kept (when it has none, it is also a [`FragmentDrop::Overlap`]).
    pub overlap_conflicts: u64,
    /// First fragments too short to hold the transport header (TCP 20 bytes, UDP, ICMP and
    /// ICMPv6 8; for IPv6 the extension headers after the fragment header too): the "tiny
    /// fragment" attack of RFC 1858 and RFC 7112. Not a drop: the datagram is reassembled.
    pub tiny_first: u64,
    /// Fragments that brought data to a datagram that was reassembled.
    pub fragments_reassembled: u64,
    /// Fragments held by datagrams that were given up.
    pub fragments_abandoned: u64,
    dropped: [u64; FragmentDrop::ALL.len()],
    abandoned: [u64; DatagramDrop::ALL.len()],
}

impl ReassemblyStats {
    /// Fragments not kept for `reason`.
    pub fn dropped(&self, reason: FragmentDrop) -> u64 {
        self.dropped.get(reason.index()).copied().unwrap_or(0)
    }

    /// Datagrams given up for `reason`.
    pub fn abandoned(&self, reason: DatagramDrop) -> u64 {
        self.abandoned.get(reason.index()).copied().unwrap_or(0)
    }

    /// Fragments not kept, all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// Datagrams given up, all reasons.
    pub fn abandoned_total(&self) -> u64 {
        self.abandoned.iter().sum()
    }

    /// Fragments not kept, by reason name, every reason (for reports).
    pub fn dropped_by_reason(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        FragmentDrop::ALL
            .iter()
            .map(|r| (r.name(), self.dropped(*r)))
    }

    /// Datagrams given up, by reason name, every reason (for reports).
    pub fn abandoned_by_reason(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DatagramDrop::ALL
            .iter()
            .map(|r| (r.name(), self.abandoned(*r)))
    }

    pub(super) fn drop_fragment(&mut self, reason: FragmentDrop) {
        if let Some(n) = self.dropped.get_mut(reason.index()) {
            *n += 1;
        }
    }

    pub(super) fn abandon(&mut self, reason: DatagramDrop, fragments: u32) {
        if let Some(n) = self.abandoned.get_mut(reason.index()) {
            *n += 1;
        }
        self.fragments_abandoned += u64::from(fragments);
    }
}
