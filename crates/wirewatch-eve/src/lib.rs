//! SIEM output: finished flows and alerts as JSON lines in Suricata's EVE layout, with
//! Community ID flow hashes, so pipelines that ingest Suricata ingest Wirewatch unchanged.
//!
//! - [`community`]: Community ID v1 ([`community_id`]) and the `flow_id` derived from it.
//! - [`record`]: the EVE records ([`EveRecord`]): `event_type` `flow` (from a
//!   [`wirewatch_core::FlowRecord`]) and `alert` (from a [`wirewatch_core::Alert`]), with the
//!   signature id table ([`record::SIGNATURE_IDS`]) and severity mapping.
//! - [`writer`]: [`EveWriter`], the buffered line writer over any `Write`.
//! - [`alertlog`]: [`AlertLog`], one JSON line per alert event (opened, ended).
//!
//! This crate owns the formats and the writers. Every string written comes from the network or
//! a list file: it is written as JSON, never interpreted.
//!
//! Must not: know of the engine or of the binary's outputs (the binary feeds these writers from
//! its output fan-out); read the clock (the EVE writer flushes and forgets incidents on packet
//! time); depend on any Wirewatch crate but `wirewatch-core`.
//!
//! Where Wirewatch differs from Suricata: `flow_id` is derived from the flow's 5-tuple (the
//! first 8 bytes of its Community ID digest, top bit cleared), so a reused 5-tuple keeps its
//! id; an incident writes an alert event when it opens, when its severity rises and when it ends
//! (`wirewatch.status` says which); an alert's source port is
//! unknown (its `community_id` hashes source port 0); IPv6 addresses are written in their
//! short form (`2001:db8::1`, not Suricata's zero-padded one); `app_proto` is set only when
//! the payload confirmed the protocol (port guesses are under `wirewatch.app`).

pub mod alertlog;
pub mod community;
pub mod record;
pub mod transaction;
pub mod writer;

pub use alertlog::AlertLog;
pub use community::{community_id, community_id_hash, flow_id_of};
pub use record::{EveAlert, EveExtras, EveFlow, EveRecord, EveTcp, signature_id};
pub use writer::{EveStats, EveWriter};

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A log file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the {what} {}: {source}", path.display())]
pub struct OpenError {
    /// What the file is (`EVE output`, `alert log`).
    pub what: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Opens `path` for appending, creating it when missing (a log shipper tails it).
pub(crate) fn open_append(path: &Path, what: &'static str) -> Result<File, OpenError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| OpenError {
            what,
            path: path.to_path_buf(),
            source,
        })
}

/// Opens (creating, appending to) an EVE output file.
pub fn open(path: &Path) -> Result<EveWriter<File>, OpenError> {
    Ok(EveWriter::new(open_append(path, "EVE output")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/eve.json");
        let err = open(&path).err().unwrap();
        assert!(err.to_string().contains("no/such/dir/eve.json"), "{err}");
    }
}
