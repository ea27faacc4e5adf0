//! Application-layer decoders: pure, bounded, lax parsers of transport payloads (one file per
//! protocol). Names they return come from the network and are attacker-controlled: callers
//! must escape them before showing them anywhere.

pub mod dns;
pub mod http;
pub mod ssh;
pub mod tls;
