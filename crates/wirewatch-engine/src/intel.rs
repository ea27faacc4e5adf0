//! Threat intelligence on the engine thread: every new flow's public endpoints are checked
//! against the blocklists (a lookup in memory) and handed to the AbuseIPDB service (a
//! non-blocking submit); answers that arrive later are matched to the local host that talked to
//! the address. Hits go to the threat-intel detector; finished flows and top talkers get the
//! reputation of their endpoints.

use foldhash::fast::FixedState;
use hashlink::LruCache;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use wirewatch_core::{AddressReputation, FlowRecord, ThreatHit, Timestamp};
use wirewatch_decode::Packet;
use wirewatch_intel::{IntelService, PrefixSet, Reputation, Submit, is_public};

/// AbuseIPDB verdicts kept in memory (any score): about 200 bytes each, so 65,536 is ~13 MB
/// and covers the distinct public addresses of a busy day; the service's own cache (and the
/// database) remember more.
const MAX_KNOWN: usize = 65_536;
/// Addresses whose AbuseIPDB answer is awaited, with the first local host that talked to them.
/// The queue to the service is bounded too; an answer for an address evicted here still
/// annotates later flows, it just raises no hit for the forgotten contact.
const MAX_WAITING: usize = 16_384;

/// The blocklists in force, swapped whole when the files change (read at interval ends).
pub type SharedSet = Arc<Mutex<Arc<PrefixSet>>>;

/// Who talked to an address whose verdict is pending.
#[derive(Debug, Clone, Copy)]
struct Contact {
    ts: Timestamp,
    local: IpAddr,
    port: u16,
    outbound: bool,
}

/// The engine's threat-intel state.
pub struct EngineIntel {
    shared: SharedSet,
    set: Arc<PrefixSet>,
    service: Option<IntelService>,
    known: LruCache<IpAddr, AddressReputation, FixedState>,
    waiting: LruCache<IpAddr, Contact, FixedState>,
    hits: Vec<ThreatHit>,
}

impl EngineIntel {
    /// Intel over the blocklists in `shared` and, when given, the AbuseIPDB service.
    pub fn new(shared: SharedSet, service: Option<IntelService>) -> Self {
        let set = shared
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|_| Arc::new(PrefixSet::empty()));
        EngineIntel {
            shared,
            set,
            service,
            known: LruCache::with_hasher(MAX_KNOWN, FixedState::default()),
            waiting: LruCache::with_hasher(MAX_WAITING, FixedState::default()),
            hits: Vec::new(),
        }
    }

    /// What is known about `ip`: a blocklist entry first, else an AbuseIPDB verdict.
    pub fn reputation(&self, ip: IpAddr) -> Option<AddressReputation> {
        if let Some(m) = self.set.lookup(ip) {
            return Some(Reputation::from_blocklist(ip, &m, 0).to_core());
        }
        self.known.peek(&ip).cloned()
    }

    /// A packet that started a new flow: checks its public endpoints. Hits are kept for
    /// [`EngineIntel::take_hits`].
    pub fn on_new_flow(&mut self, pkt: &Packet, ts: Timestamp) {
        if !pkt.has_src || !pkt.has_dst {
            return;
        }
        let (sport, dport) = pkt.ports().unwrap_or((0, 0));
        // The sender of a flow's first packet opened it: its peer is reached "outbound".
        for (remote, local, port, outbound) in [
            (pkt.dst, pkt.src, dport, true),
            (pkt.src, pkt.dst, sport, false),
        ] {
            if !is_public(remote) {
                continue;
            }
            if let Some(rep) = self.reputation(remote) {
                self.hit(ts, local, remote, port, outbound, rep);
                continue;
            }
            let Some(service) = &self.service else {
                continue;
            };
            match service.submit(remote) {
                Submit::Cached(r) => {
                    let rep = r.to_core();
                    self.known.insert(remote, rep.clone());
                    self.hit(ts, local, remote, port, outbound, rep);
                }
                Submit::Queued => {
                    if !self.waiting.contains_key(&remote) {
                        self.waiting.insert(
                            remote,
                            Contact {
                                ts,
                                local,
                                port,
                                outbound,
                            },
                        );
                    }
                }
                Submit::Skipped(_) => {}
            }
        }
    }

    fn hit(
        &mut self,
        ts: Timestamp,
        local: IpAddr,
        remote: IpAddr,
        port: u16,
        outbound: bool,
        reputation: AddressReputation,
    ) {
        self.hits.push(ThreatHit {
            ts,
            local,
            remote,
            remote_port: port,
            outbound,
            reputation,
        });
    }

    /// At an interval's end: picks up reloaded blocklists and the AbuseIPDB answers that
    /// arrived, turning answers for waiting contacts into hits.
    pub fn on_interval(&mut self) {
        if let Ok(s) = self.shared.lock()
            && !Arc::ptr_eq(&s, &self.set)
        {
            self.set = s.clone();
        }
        let results = match &self.service {
            Some(service) => service.try_results(),
            None => return,
        };
        for r in results {
            let rep = r.to_core();
            self.known.insert(r.ip, rep.clone());
            if let Some(c) = self.waiting.remove(&r.ip) {
                self.hit(c.ts, c.local, r.ip, c.port, c.outbound, rep);
            }
        }
    }

    /// The hits found since the last call.
    pub fn take_hits(&mut self) -> std::vec::Drain<'_, ThreatHit> {
        self.hits.drain(..)
    }

    /// Sets a finished flow's reputation: the worse of its two endpoints, if any is known.
    pub fn annotate(&self, f: &mut FlowRecord) {
        let best = [f.dst_ip, f.src_ip]
            .into_iter()
            .filter_map(|ip| self.reputation(ip))
            .max_by_key(|r| r.score);
        f.reputation = best.map(Box::new);
    }

    /// The AbuseIPDB service, for its counters.
    pub fn service(&self) -> Option<&IntelService> {
        self.service.as_ref()
    }

    /// Entries in the blocklists in force.
    pub fn blocklist_entries(&self) -> usize {
        self.set.len()
    }
}
