//! AbuseIPDB: the API v2 `check` client and the background look-up service around it.
//!
//! Owns everything that talks to AbuseIPDB. It must not be called on the packet path except
//! through [`IntelService::submit`], which never blocks. The client ([`client`]) makes one
//! request and reports what happened; the service ([`worker`]) decides what to ask, when,
//! and what to remember.

pub mod client;
pub mod worker;

pub use client::{
    AbuseIpdbClient, AbuseIpdbConfig, CheckOutcome, ClientError, DEFAULT_BASE_URL, ENV_API_KEY,
    ENV_BASE_URL, RateLimit,
};
pub use worker::{IntelService, IntelStats, SkipReason, Submit};
