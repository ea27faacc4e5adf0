//! `IntelService`: AbuseIPDB look-ups on one background thread, fed by a bounded queue, so
//! the packet path never waits for the network.
//!
//! Owns the look-up policy: each public address once (duplicates suppressed by a bounded
//! map of known addresses), the database cache first (a fresh answer costs no request), the
//! quota (the server's `X-RateLimit-*` headers; when a server sends none, the configured
//! daily quota counted locally per UTC day), 429 (pause until `Retry-After`, else
//! `X-RateLimit-Reset`; at `X-RateLimit-Remaining: 0` without a reset time the next request
//! is the one that learns it),
//! network and server errors (bounded exponential back-off, a few attempts per address), and
//! 401 (the service disables itself and says why). While paused, queued addresses are still
//! answered from the cache and the rest wait in a bounded backlog that is worked off after
//! the pause.
//!
//! It must not block in [`IntelService::submit`] (the engine thread calls it: a lock held for
//! a map look-up and a `try_send`, nothing more), must not raise alerts (the detector applies
//! the threshold to the [`Reputation`]s it drains), and must not send a non-public address.
//!
//! **Wall clock.** Quotas, resets and cache lifetimes are real time, so this module reads
//! `SystemTime::now()`; with the app and web crates it is the only part of Wirewatch that
//! does. Nothing here depends on packet time.

use super::client::{AbuseIpdbClient, AbuseIpdbConfig, ClientError, RateLimit};
use crate::error::IntelError;
use crate::reputation::Reputation;
use crate::reserved::is_public;
use foldhash::fast::RandomState;
use hashlink::LruCache;
use serde::Serialize;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_store::IntelCache;

/// Addresses remembered (pending, answered, failed) to suppress duplicate look-ups and
/// answer repeats from memory. 65,536 covers the distinct remote addresses of a busy
/// network over a day; the least recently used are forgotten first (a forgotten address
/// costs a database look-up, not a request).
pub const MAX_KNOWN: usize = 65_536;
/// Answers waiting for [`IntelService::try_results`]. The engine drains them every
/// interval; 4,096 holds a burst of cache hits at start. Oldest dropped beyond, counted.
pub const MAX_RESULTS: usize = 4_096;
/// Fresh cached answers loaded into memory at start (newest first): half the known map,
/// leaving room for new addresses.
pub const WARM_ENTRIES: usize = MAX_KNOWN / 2;
/// First wait after a network or server error, doubled after each further one: 2 s lets a
/// brief outage pass without hammering a server that is struggling.
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(2);
/// Longest wait between attempts while the network stays down: 10 minutes keeps a dead
/// link from costing more than a few failed connections an hour.
pub const BACKOFF_MAX: Duration = Duration::from_secs(600);
/// Attempts per address before it is given up (and forgotten, so a later submission tries
/// again): a few tries ride out a blip without looping on one address.
pub const MAX_ATTEMPTS: u32 = 4;
/// Pause after a 429 without usable headers: AbuseIPDB's limits are daily, an hour keeps
/// retries rare without waiting a whole day for a server that said nothing.
pub const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(3600);
/// Longest pause a server's headers can impose (a day plus an hour of clock skew): a
/// wrong reset time must not stop look-ups for good.
pub const MAX_PAUSE: Duration = Duration::from_secs(25 * 3600);
/// How often the worker wakes when idle, to notice shutdown and expired pauses: twice a
/// second costs nothing and keeps a resume within half a second of the reset.
const IDLE_WAKE: Duration = Duration::from_millis(500);
/// How often expired rows are deleted from the database cache: answers live a day by
/// default, so hourly keeps the table within about a day's look-ups.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// Seconds in a day, for the local daily quota (AbuseIPDB's day runs in UTC).
const DAY_SECS: u64 = 86_400;

/// Why an address was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Private, loopback, link-local, reserved: never sent.
    NotPublic,
    /// Already queued, being looked up, waiting for the quota, or failed recently.
    AlreadyKnown,
    /// The queue is full (the submission is dropped and counted; submit it again later).
    QueueFull,
    /// The service is off (no key, key refused, shut down): see `disabled_reason`.
    Disabled,
    /// The quota is used up and the backlog kept for after the reset is full.
    QuotaExhausted,
}

/// What [`IntelService::submit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submit {
    /// Queued for a look-up; the answer will come out of
    /// [`try_results`](IntelService::try_results).
    Queued,
    /// A fresh answer was in memory: here it is (it is not sent to `try_results` again).
    /// Shared, so a repeat costs a reference count, not a copy.
    Cached(Arc<Reputation>),
    /// Not queued.
    Skipped(SkipReason),
}

/// Counters and state of the service, for logs and the status page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntelStats {
    /// Addresses accepted into the queue.
    pub queued: u64,
    /// Answers obtained from AbuseIPDB (requests that succeeded).
    pub looked_up: u64,
    /// Answers served from memory or the database cache, without a request.
    pub cache_hits: u64,
    /// Submissions of non-public addresses (never sent).
    pub skipped_private: u64,
    /// Submissions dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Addresses given up: backlog full while paused, or attempts exhausted.
    pub dropped_backlog: u64,
    /// Failed requests (any error, 429 included).
    pub errors: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Answers dropped because nobody drained them (beyond [`MAX_RESULTS`]).
    pub results_dropped: u64,
    /// Addresses waiting in the backlog for the pause to end.
    pub backlog: u64,
    /// Look-ups are paused until then (quota used up or 429), if paused.
    #[serde(serialize_with = "unix_secs")]
    pub rate_limited_until: Option<SystemTime>,
    /// The daily limit, as the server last said (or the configured quota).
    pub quota_limit: Option<u32>,
    /// Requests left until the reset, as the server last said (or counted locally).
    pub quota_remaining: Option<u32>,
    /// Why the service is off, if it is.
    pub disabled_reason: Option<String>,
    /// The last error (request, cache), if any.
    pub last_error: Option<String>,
}

fn unix_secs<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

/// What is known about an address.
#[derive(Debug, Clone)]
enum Known {
    /// Queued, being looked up or waiting in the backlog.
    Pending,
    /// Answered; fresh until `expires_unix`.
    Done {
        rep: Arc<Reputation>,
        expires_unix: u64,
    },
    /// Failed for good (422, a bad answer); not retried before `retry_unix`.
    Failed { retry_unix: u64 },
}

/// State shown by `stats`.
#[derive(Debug, Default)]
struct Status {
    paused_until: Option<SystemTime>,
    quota_limit: Option<u32>,
    quota_remaining: Option<u32>,
    disabled_reason: Option<String>,
    last_error: Option<String>,
    backlog: u64,
}

/// State shared by the service handle (engine thread) and the worker.
struct Shared {
    known: Mutex<LruCache<IpAddr, Known, RandomState>>,
    results: Mutex<VecDeque<Reputation>>,
    status: Mutex<Status>,
    disabled: AtomicBool,
    stop: AtomicBool,
    /// Set while the backlog is full: then a paused service refuses new addresses at once.
    backlog_full: AtomicBool,
    /// Set while paused for the quota (as opposed to a network back-off).
    quota_paused: AtomicBool,
    queued: AtomicU64,
    looked_up: AtomicU64,
    cache_hits: AtomicU64,
    skipped_private: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_backlog: AtomicU64,
    errors: AtomicU64,
    rate_limited: AtomicU64,
    results_dropped: AtomicU64,
}

/// Locks whatever a panicking holder left behind: critical sections only assign values.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_unix() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Shared {
    fn new(disabled_reason: Option<String>) -> Shared {
        Shared {
            known: Mutex::new(LruCache::with_hasher(MAX_KNOWN, RandomState::default())),
            results: Mutex::new(VecDeque::new()),
            status: Mutex::new(Status {
                disabled_reason: disabled_reason.clone(),
                ..Status::default()
            }),
            disabled: AtomicBool::new(disabled_reason.is_some()),
            stop: AtomicBool::new(false),
            backlog_full: AtomicBool::new(false),
            quota_paused: AtomicBool::new(false),
            queued: AtomicU64::new(0),
            looked_up: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            skipped_private: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            dropped_backlog: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            results_dropped: AtomicU64::new(0),
        }
    }
}

/// The AbuseIPDB look-up service: a handle on the engine side and one worker thread.
/// Dropping it shuts the worker down.
pub struct IntelService {
    shared: Arc<Shared>,
    tx: Option<SyncSender<IpAddr>>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IntelService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelService")
            .field("running", &self.handle.is_some())
            .finish_non_exhaustive()
    }
}

impl IntelService {
    /// Validates `config`, loads the fresh answers of `cache` into memory (so addresses
    /// checked before a restart are answered at once) and starts the worker thread. The
    /// cache is optional: without it answers live in memory only.
    pub fn start(
        config: AbuseIpdbConfig,
        cache: Option<IntelCache>,
    ) -> Result<IntelService, IntelError> {
        let client = AbuseIpdbClient::new(&config)?;
        let shared = Arc::new(Shared::new(None));
        lock(&shared.status).quota_limit = config.daily_quota;
        if let Some(cache) = &cache {
            warm(&shared, cache);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(config.queue);
        let worker = Worker {
            shared: Arc::clone(&shared),
            client,
            cache,
            ttl: config.cache_ttl,
            daily_quota: config.daily_quota,
            backlog_cap: config.queue,
            backlog: VecDeque::new(),
            paused_until: None,
            server_remaining: None,
            local_day: 0,
            local_used: 0,
            backoff_until: None,
            backoff: BACKOFF_INITIAL,
            last_purge: Instant::now(),
        };
        let handle = std::thread::Builder::new()
            .name("wirewatch-intel".to_string())
            .spawn(move || worker.run(rx))
            .map_err(|e| IntelError::Thread(e.to_string()))?;
        Ok(IntelService {
            shared,
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// A service that looks nothing up (no key configured, or the user turned it off):
    /// every public address is skipped as [`SkipReason::Disabled`] and `reason` shows in
    /// [`stats`](Self::stats). Lets the engine hold a service either way.
    pub fn disabled(reason: impl Into<String>) -> IntelService {
        IntelService {
            shared: Arc::new(Shared::new(Some(reason.into()))),
            tx: None,
            handle: None,
        }
    }

    /// Asks for a look-up of `ip`. Never blocks: call it for every remote address as often
    /// as you like; duplicates, private addresses and known answers cost a map look-up.
    pub fn submit(&self, ip: IpAddr) -> Submit {
        let s = &self.shared;
        let ip = ip.to_canonical();
        if !is_public(ip) {
            s.skipped_private.fetch_add(1, Ordering::Relaxed);
            return Submit::Skipped(SkipReason::NotPublic);
        }
        let Some(tx) = &self.tx else {
            return Submit::Skipped(SkipReason::Disabled);
        };
        if s.disabled.load(Ordering::Relaxed) {
            return Submit::Skipped(SkipReason::Disabled);
        }
        let now = now_unix().as_secs();
        let mut known = lock(&s.known);
        match known.get(&ip) {
            Some(Known::Done { rep, expires_unix }) if now < *expires_unix => {
                s.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Submit::Cached(Arc::clone(rep));
            }
            Some(Known::Pending) => return Submit::Skipped(SkipReason::AlreadyKnown),
            Some(Known::Failed { retry_unix }) if now < *retry_unix => {
                return Submit::Skipped(SkipReason::AlreadyKnown);
            }
            _ => {}
        }
        if s.backlog_full.load(Ordering::Relaxed) {
            let reason = if s.quota_paused.load(Ordering::Relaxed) {
                SkipReason::QuotaExhausted
            } else {
                SkipReason::QueueFull
            };
            if reason == SkipReason::QueueFull {
                s.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            }
            return Submit::Skipped(reason);
        }
        match tx.try_send(ip) {
            Ok(()) => {
                known.insert(ip, Known::Pending);
                s.queued.fetch_add(1, Ordering::Relaxed);
                Submit::Queued
            }
            Err(TrySendError::Full(_)) => {
                s.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                Submit::Skipped(SkipReason::QueueFull)
            }
            Err(TrySendError::Disconnected(_)) => Submit::Skipped(SkipReason::Disabled),
        }
    }

    /// The answers that arrived since the last call (look-ups and database cache hits), in
    /// arrival order.
    pub fn try_results(&self) -> Vec<Reputation> {
        lock(&self.shared.results).drain(..).collect()
    }

    /// Whether look-ups are off (see [`IntelStats::disabled_reason`]).
    pub fn is_disabled(&self) -> bool {
        self.tx.is_none() || self.shared.disabled.load(Ordering::Relaxed)
    }

    /// Counters and state now.
    pub fn stats(&self) -> IntelStats {
        let s = &self.shared;
        let st = lock(&s.status);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        IntelStats {
            queued: load(&s.queued),
            looked_up: load(&s.looked_up),
            cache_hits: load(&s.cache_hits),
            skipped_private: load(&s.skipped_private),
            dropped_queue_full: load(&s.dropped_queue_full),
            dropped_backlog: load(&s.dropped_backlog),
            errors: load(&s.errors),
            rate_limited: load(&s.rate_limited),
            results_dropped: load(&s.results_dropped),
            backlog: st.backlog,
            rate_limited_until: st.paused_until,
            quota_limit: st.quota_limit,
            quota_remaining: st.quota_remaining,
            disabled_reason: st.disabled_reason.clone(),
            last_error: st.last_error.clone(),
        }
    }

    /// Stops the worker and waits for it: at most the request in flight (bounded by the
    /// configured timeout). Queued addresses are dropped. Idempotent.
    pub fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Closing the queue wakes a worker waiting on it.
        drop(self.tx.take());
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        let mut st = lock(&self.shared.status);
        if st.disabled_reason.is_none() {
            st.disabled_reason = Some("the look-up service was shut down".to_string());
        }
    }
}

impl Drop for IntelService {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Loads the fresh cached answers into the known map.
fn warm(shared: &Shared, cache: &IntelCache) {
    let now = now_unix();
    match cache.fresh(nanos(now), WARM_ENTRIES) {
        Ok(rows) => {
            let mut known = lock(&shared.known);
            // Newest first in, so the newest end up most recently used: insert oldest first.
            for (ip, row) in rows.into_iter().rev() {
                if let Ok(rep) = serde_json::from_str::<Reputation>(&row.data) {
                    known.insert(
                        ip,
                        Known::Done {
                            rep: Arc::new(rep),
                            expires_unix: row.expires_ts / NANOS_PER_SEC,
                        },
                    );
                }
            }
        }
        Err(e) => {
            lock(&shared.status).last_error = Some(format!("threat-intelligence cache: {e}"));
        }
    }
}

/// The worker thread's state.
struct Worker {
    shared: Arc<Shared>,
    client: AbuseIpdbClient,
    cache: Option<IntelCache>,
    ttl: Duration,
    daily_quota: Option<u32>,
    backlog_cap: usize,
    /// Addresses waiting for a pause or back-off to end, with their failed attempts.
    backlog: VecDeque<(IpAddr, u32)>,
    /// Quota pause (used up, or 429), wall clock.
    paused_until: Option<SystemTime>,
    /// `X-RateLimit-Remaining` of the last answer, until the next reset.
    server_remaining: Option<u32>,
    /// UTC day of the local request count.
    local_day: u64,
    /// Requests sent on `local_day` (used when the server sent no headers).
    local_used: u32,
    /// Network back-off, monotonic clock.
    backoff_until: Option<Instant>,
    /// The next back-off delay.
    backoff: Duration,
    last_purge: Instant,
}

impl Worker {
    fn run(mut self, rx: Receiver<IpAddr>) {
        loop {
            if self.shared.stop.load(Ordering::Relaxed)
                || self.shared.disabled.load(Ordering::Relaxed)
            {
                break;
            }
            self.maybe_purge();
            let blocked = self.blocked();
            let work_backlog = blocked.is_none() && !self.backlog.is_empty();
            let next = if work_backlog {
                match rx.try_recv() {
                    Ok(ip) => Some(ip),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => break,
                }
            } else {
                let wait = blocked.map_or(IDLE_WAKE, |b| b.min(IDLE_WAKE));
                match rx.recv_timeout(wait) {
                    Ok(ip) => Some(ip),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            match next {
                Some(ip) => self.handle_new(ip),
                None if work_backlog => {
                    if let Some((ip, attempts)) = self.backlog.pop_front() {
                        self.lookup(ip, attempts);
                    }
                }
                None => {}
            }
            self.publish();
        }
        self.publish();
    }

    /// A newly queued address: the cache, else a look-up, else the backlog.
    fn handle_new(&mut self, ip: IpAddr) {
        if let Some((rep, expires_unix)) = self.cached(ip) {
            self.shared.cache_hits.fetch_add(1, Ordering::Relaxed);
            self.deliver(rep, expires_unix);
            return;
        }
        if self.blocked().is_some() {
            self.defer(ip, 0, false);
            return;
        }
        self.lookup(ip, 0);
    }

    /// How long look-ups must still wait (quota pause or back-off), if they must.
    fn blocked(&mut self) -> Option<Duration> {
        let mut wait: Option<Duration> = None;
        if let Some(until) = self.paused_until {
            match until.duration_since(SystemTime::now()) {
                Ok(d) if !d.is_zero() => wait = Some(d),
                _ => self.end_pause(),
            }
        }
        if let Some(until) = self.backoff_until {
            let now = Instant::now();
            if until > now {
                wait = Some(wait.map_or(until - now, |w| w.max(until - now)));
            } else {
                self.backoff_until = None;
            }
        }
        wait
    }

    fn end_pause(&mut self) {
        self.paused_until = None;
        // The server's count is stale after its reset; the next answer says it again.
        self.server_remaining = None;
        self.shared.quota_paused.store(false, Ordering::Relaxed);
        let mut st = lock(&self.shared.status);
        st.paused_until = None;
        st.quota_remaining = None;
    }

    fn pause(&mut self, until: SystemTime) {
        let now = SystemTime::now();
        let until = until.min(now + MAX_PAUSE);
        let until = self.paused_until.map_or(until, |p| p.max(until));
        self.paused_until = Some(until);
        self.shared.quota_paused.store(true, Ordering::Relaxed);
        lock(&self.shared.status).paused_until = Some(until);
    }

    /// Keeps `ip` for after the pause; gives it up when the backlog is full.
    fn defer(&mut self, ip: IpAddr, attempts: u32, front: bool) {
        if self.backlog.len() >= self.backlog_cap {
            self.shared.backlog_full.store(true, Ordering::Relaxed);
            self.shared.dropped_backlog.fetch_add(1, Ordering::Relaxed);
            self.forget(ip);
            return;
        }
        if front {
            self.backlog.push_front((ip, attempts));
        } else {
            self.backlog.push_back((ip, attempts));
        }
        if self.backlog.len() >= self.backlog_cap {
            self.shared.backlog_full.store(true, Ordering::Relaxed);
        }
    }

    /// The local daily count says the quota is used up: until the next UTC midnight.
    fn local_quota_exhausted(&mut self) -> Option<SystemTime> {
        let quota = self.daily_quota?;
        if self.server_remaining.is_some() {
            return None;
        }
        let now = now_unix().as_secs();
        let day = now / DAY_SECS;
        if day != self.local_day {
            self.local_day = day;
            self.local_used = 0;
        }
        (self.local_used >= quota).then(|| UNIX_EPOCH + Duration::from_secs((day + 1) * DAY_SECS))
    }

    fn lookup(&mut self, ip: IpAddr, attempts: u32) {
        if self.shared.stop.load(Ordering::Relaxed) {
            self.forget(ip);
            return;
        }
        if let Some(until) = self.local_quota_exhausted() {
            self.pause(until);
            self.defer(ip, attempts, true);
            return;
        }
        self.local_used = self.local_used.saturating_add(1);
        match self.client.check(ip) {
            Ok(outcome) => {
                self.backoff = BACKOFF_INITIAL;
                self.backoff_until = None;
                self.note_rate_limit(&outcome.rate_limit);
                self.shared.looked_up.fetch_add(1, Ordering::Relaxed);
                let now = now_unix();
                let expires = now + self.ttl;
                self.store(ip, &outcome.reputation, now);
                self.deliver(outcome.reputation, expires.as_secs());
            }
            Err(e) => self.failed(ip, attempts, e),
        }
    }

    fn failed(&mut self, ip: IpAddr, attempts: u32, e: ClientError) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.status).last_error = Some(e.to_string());
        match &e {
            ClientError::Unauthorized { .. } => {
                self.backlog.clear();
                self.shared.disabled.store(true, Ordering::Relaxed);
                lock(&self.shared.status).disabled_reason = Some(format!(
                    "{e}. AbuseIPDB look-ups are off until restart; offline blocklists still work"
                ));
            }
            ClientError::RateLimited { rate_limit, .. } => {
                self.shared.rate_limited.fetch_add(1, Ordering::Relaxed);
                self.note_limit(rate_limit);
                self.server_remaining = Some(0);
                lock(&self.shared.status).quota_remaining = Some(0);
                let now = SystemTime::now();
                let until = match (rate_limit.retry_after, rate_limit.reset_at) {
                    (Some(after), _) => now + after,
                    (None, Some(reset)) => reset,
                    (None, None) => now + DEFAULT_RATE_LIMIT_PAUSE,
                };
                self.pause(until);
                self.defer(ip, attempts, true);
            }
            e if e.is_transient() => {
                if let Some(rl) = e.rate_limit() {
                    self.note_rate_limit(rl);
                }
                self.backoff_until = Some(Instant::now() + self.backoff);
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                if attempts + 1 >= MAX_ATTEMPTS {
                    self.shared.dropped_backlog.fetch_add(1, Ordering::Relaxed);
                    self.forget(ip);
                } else {
                    self.defer(ip, attempts + 1, true);
                }
            }
            e => {
                // 422, other 4xx, an unreadable answer: the same request would fail again.
                if let Some(rl) = e.rate_limit() {
                    self.note_rate_limit(rl);
                }
                let retry_unix = (now_unix() + self.ttl).as_secs();
                lock(&self.shared.known).insert(ip, Known::Failed { retry_unix });
            }
        }
    }

    fn note_limit(&self, rl: &RateLimit) {
        if let Some(limit) = rl.limit {
            lock(&self.shared.status).quota_limit = Some(limit);
        }
    }

    /// Takes the quota from an answer's headers; pauses at zero remaining.
    fn note_rate_limit(&mut self, rl: &RateLimit) {
        self.note_limit(rl);
        let Some(remaining) = rl.remaining else {
            return;
        };
        self.server_remaining = Some(remaining);
        lock(&self.shared.status).quota_remaining = Some(remaining);
        // At zero with a known reset, pause until it. Without one (AbuseIPDB sends the reset
        // time only with 429), the next request is the probe: its 429 costs no quota and
        // names the exact reset, which beats guessing the server's day boundary.
        if remaining == 0
            && let Some(reset) = rl.reset_at
        {
            self.pause(reset);
        }
    }

    /// A fresh cached answer for `ip` and when it expires (Unix seconds).
    fn cached(&mut self, ip: IpAddr) -> Option<(Reputation, u64)> {
        let cache = self.cache.as_ref()?;
        match cache.get(ip, nanos(now_unix())) {
            Ok(Some(row)) => serde_json::from_str::<Reputation>(&row.data)
                .ok()
                .map(|rep| (rep, row.expires_ts / NANOS_PER_SEC)),
            Ok(None) => None,
            Err(e) => {
                lock(&self.shared.status).last_error =
                    Some(format!("threat-intelligence cache: {e}"));
                None
            }
        }
    }

    fn store(&self, ip: IpAddr, rep: &Reputation, now: Duration) {
        let Some(cache) = &self.cache else { return };
        let result = rep
            .cache_entry(now, self.ttl)
            .map_err(|e| e.to_string())
            .and_then(|entry| cache.put(ip, &entry).map_err(|e| e.to_string()));
        if let Err(e) = result {
            lock(&self.shared.status).last_error =
                Some(format!("cannot cache the answer for {ip}: {e}"));
        }
    }

    /// Hands an answer to the engine and remembers it.
    fn deliver(&self, rep: Reputation, expires_unix: u64) {
        let ip = rep.ip;
        let mut results = lock(&self.shared.results);
        if results.len() >= MAX_RESULTS {
            results.pop_front();
            self.shared.results_dropped.fetch_add(1, Ordering::Relaxed);
        }
        results.push_back(rep.clone());
        drop(results);
        lock(&self.shared.known).insert(
            ip,
            Known::Done {
                rep: Arc::new(rep),
                expires_unix,
            },
        );
    }

    /// Forgets a pending address, so a later submission queues it again.
    fn forget(&self, ip: IpAddr) {
        let mut known = lock(&self.shared.known);
        if matches!(known.peek(&ip), Some(Known::Pending)) {
            known.remove(&ip);
        }
    }

    fn maybe_purge(&mut self) {
        if self.last_purge.elapsed() < PURGE_INTERVAL {
            return;
        }
        self.last_purge = Instant::now();
        if let Some(cache) = &self.cache
            && let Err(e) = cache.purge_expired(nanos(now_unix()))
        {
            lock(&self.shared.status).last_error = Some(format!("threat-intelligence cache: {e}"));
        }
    }

    /// Shows the backlog and the local quota count in the stats.
    fn publish(&self) {
        if self.backlog.len() < self.backlog_cap {
            self.shared.backlog_full.store(false, Ordering::Relaxed);
        }
        let mut st = lock(&self.shared.status);
        st.backlog = self.backlog.len() as u64;
        if self.server_remaining.is_none()
            && let Some(q) = self.daily_quota
        {
            st.quota_remaining = Some(q.saturating_sub(self.local_used));
        }
    }
}
