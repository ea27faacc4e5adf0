//! `PrefixSet`: the networks of many blocklists in one immutable structure with fast
//! most-specific-match look-up, for IPv4 and IPv6.
//!
//! Owns the flattening of nested networks into non-overlapping ranges (each pointing to its
//! most specific entry) and the look-up by binary search: O(log n), no allocation, no locks,
//! so the engine can call it per packet or per flow. It must not do I/O or change after it is
//! built: a reload builds a new set and the caller swaps it in.
//!
//! **Local traffic is never flagged.** A look-up of a non-public address (private, loopback,
//! link-local, documentation, CGNAT, multicast, reserved: see [`crate::reserved`]) returns no
//! match even when a list has an entry covering it (`10.0.0.0/8`, `0.0.0.0/8`, `0.0.0.0/0`):
//! such entries still match public addresses they cover.

use super::parse::Entry;
use crate::reserved::is_public;
use ipnet::{IpNet, Ipv4Net};
use std::net::IpAddr;
use std::sync::Arc;

/// A blocklist entry that matched an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The list's name.
    pub list: Arc<str>,
    /// The most specific network of any list that contains the address.
    pub net: IpNet,
    /// What the list says about the network (SBL number, comment), if anything.
    pub reference: Option<Arc<str>>,
}

/// One list in a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSummary {
    /// The list's name.
    pub name: Arc<str>,
    /// Entries it contributed.
    pub entries: usize,
}

/// An entry as kept in the set.
#[derive(Debug, Clone)]
struct Stored {
    net: IpNet,
    list: u32,
    reference: Option<Arc<str>>,
}

/// An address as a number, for range tables.
trait Key: Copy + Ord + Default {
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

impl Key for u32 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl Key for u128 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// Sorted, non-overlapping, inclusive ranges, each naming its most specific entry. Starts
/// are kept apart from the rest so the binary search touches as few cache lines as it can.
#[derive(Debug, Clone, Default)]
struct Table<K> {
    starts: Vec<K>,
    ends: Vec<K>,
    entry: Vec<u32>,
}

impl<K: Key> Table<K> {
    fn find(&self, k: K) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= k).checked_sub(1)?;
        (k <= self.ends[i]).then(|| self.entry[i])
    }

    fn push(&mut self, from: K, to: K, entry: u32) {
        if from <= to {
            self.starts.push(from);
            self.ends.push(to);
            self.entry.push(entry);
        }
    }

    /// Flattens networks given as (first, last, entry index). Networks are nested or
    /// disjoint; the innermost wins, and between identical networks the first added.
    fn build(mut items: Vec<(K, K, u32)>) -> Table<K> {
        // Outer networks before the ones they contain; equal networks in insertion order.
        items.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut table = Table::default();
        // Open networks, outermost first: (first, last, entry).
        let mut stack: Vec<(K, K, u32)> = Vec::new();
        // The first address not yet covered by an emitted range (None: past the end).
        let mut cursor: Option<K> = Some(K::default());
        for (first, last, idx) in items {
            while let Some(&(_, top_last, top_idx)) = stack.last() {
                if top_last >= first {
                    break;
                }
                if let Some(c) = cursor {
                    table.push(c, top_last, top_idx);
                }
                cursor = top_last.succ();
                stack.pop();
            }
            if let Some(&(top_first, top_last, top_idx)) = stack.last() {
                if top_first == first && top_last == last {
                    continue; // the same network again: the first one stays
                }
                if let (Some(c), Some(before)) = (cursor, first.pred()) {
                    table.push(c, before, top_idx);
                }
            }
            cursor = Some(first);
            stack.push((first, last, idx));
        }
        while let Some((_, top_last, top_idx)) = stack.pop() {
            if let Some(c) = cursor {
                table.push(c, top_last, top_idx);
            }
            cursor = top_last.succ();
        }
        table
    }
}

/// The networks of many blocklists, ready for look-ups. Cheap to share (`Arc<PrefixSet>`)
/// and to swap on reload.
#[derive(Debug, Clone, Default)]
pub struct PrefixSet {
    entries: Vec<Stored>,
    lists: Vec<ListSummary>,
    v4: Table<u32>,
    v6: Table<u128>,
}

impl PrefixSet {
    /// A set with no lists.
    pub fn empty() -> PrefixSet {
        PrefixSet::default()
    }

    /// The most specific entry of any list containing `ip`, unless `ip` is not public (see
    /// the module doc). An IPv4-mapped IPv6 address is looked up as its IPv4 address.
    pub fn lookup(&self, ip: IpAddr) -> Option<Match> {
        let idx = self.find(ip)?;
        let e = self.entries.get(idx as usize)?;
        Some(Match {
            list: Arc::clone(&self.lists.get(e.list as usize)?.name),
            net: e.net,
            reference: e.reference.clone(),
        })
    }

    /// Whether some list contains `ip` (and it is public): [`lookup`](Self::lookup) without
    /// building the answer.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.find(ip).is_some()
    }

    fn find(&self, ip: IpAddr) -> Option<u32> {
        let ip = ip.to_canonical();
        let idx = match ip {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        }?;
        // Checked after the table, which rules out most addresses faster.
        is_public(ip).then_some(idx)
    }

    /// Entries in all lists (duplicates included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The lists, in the order they were added.
    pub fn lists(&self) -> &[ListSummary] {
        &self.lists
    }

    /// Non-overlapping ranges the look-up searches (IPv4 + IPv6): a measure of its size.
    pub fn ranges(&self) -> usize {
        self.v4.starts.len() + self.v6.starts.len()
    }
}

/// Collects lists, then builds a [`PrefixSet`].
#[derive(Debug, Default)]
pub struct PrefixSetBuilder {
    entries: Vec<Stored>,
    lists: Vec<ListSummary>,
}

impl PrefixSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        PrefixSetBuilder::default()
    }

    /// Adds the list `name` with its entries. Between identical networks of two lists, the
    /// list added first is the one a match names.
    pub fn add_list(&mut self, name: &str, entries: &[Entry]) {
        let list = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
        self.lists.push(ListSummary {
            name: Arc::from(name),
            entries: entries.len(),
        });
        self.entries.extend(entries.iter().map(|e| Stored {
            net: normalize(e.net),
            list,
            reference: e.reference.as_deref().map(Arc::from),
        }));
    }

    /// Builds the set: O(n log n).
    pub fn build(self) -> PrefixSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            match e.net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()), i)),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()), i)),
            }
        }
        PrefixSet {
            entries: self.entries,
            lists: self.lists,
            v4: Table::build(v4),
            v6: Table::build(v6),
        }
    }
}

/// An IPv4-mapped IPv6 network (`::ffff:a.b.c.d/96+n`) as the IPv4 network it denotes, so that
/// it matches the IPv4 addresses look-ups use.
fn normalize(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let Some(v4) = n.network().to_ipv4_mapped()
        && let Ok(v4net) = Ipv4Net::new(v4, n.prefix_len() - 96)
    {
        return IpNet::V4(v4net);
    }
    net.trunc()
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
