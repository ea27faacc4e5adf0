//! Wirewatch threat intelligence: tells whether a remote address is already known as bad.
//!
//! Two sources, one record ([`Reputation`]):
//!
//! - **Offline blocklists** (the default, no account needed): list files in the common
//!   formats ([`blocklist::parse`](mod@blocklist::parse)) loaded into one [`PrefixSet`]
//!   with most-specific-match look-ups in O(log n) ([`blocklist::set`]), reloaded when a
//!   file changes ([`Reloader`]). Cheap enough to call per flow on the engine thread.
//! - **AbuseIPDB** (when the user supplies a key): [`IntelService`] looks each new public
//!   address up once on a background thread fed by a bounded queue, caches answers in the
//!   store's database ([`wirewatch_store::IntelCache`]) so a restart does not spend the quota
//!   again, respects the quota and rate-limit headers, pauses on 429, backs off on network
//!   errors and disables itself on a refused key.
//!
//! ```text
//!  engine ──submit(ip)──► bounded queue ──► worker thread ──► IntelCache (SQLite) / AbuseIPDB
//!         ◄─try_results()── Vec<Reputation> ◄──┘
//!  engine ──PrefixSet::lookup(ip)──► Option<Match>          (Arc<PrefixSet>, swapped on reload)
//! ```
//!
//! Neither source ever flags or sends a non-public address ([`reserved::is_public`]): local
//! traffic is never a threat-intelligence hit, even when a list covers private space.
//!
//! This crate must not raise alerts (the detector applies its threshold with
//! [`Reputation::is_malicious`]), must not block the caller of `submit` or `lookup`, and must
//! not depend on any Wirewatch crate but `wirewatch-core` and `wirewatch-store` (nor know of the
//! engine or the binary). It reads the wall clock: quotas, resets and cache lifetimes are real
//! time.

pub mod abuseipdb;
pub mod blocklist;
mod error;
pub mod reputation;
pub mod reserved;

pub use abuseipdb::{
    AbuseIpdbClient, AbuseIpdbConfig, CheckOutcome, ClientError, IntelService, IntelStats,
    RateLimit, SkipReason, Submit,
};
pub use blocklist::{
    BlocklistConfig, Blocklists, Entry, Format, LineWarning, ListReport, LoadReport, Match,
    PrefixSet, PrefixSetBuilder, Reloader,
};
pub use error::IntelError;
pub use reputation::{Reputation, Source};
pub use reserved::is_public;
pub use wirewatch_store::{CachedIntel, IntelCache};
