//! `IntelCache`: a small synchronous cache of threat-intelligence answers over the
//! `intel_cache` table (schema version 3), so that a restart does not spend a look-up quota
//! again on addresses already checked.
//!
//! Owns its own read-write connection to the store's database file, opened through the same
//! path as the store's writer (`schema::open_writer`), so a missing directory, a foreign or
//! newer database is refused the same way and the schema is brought up to date. WAL and the
//! busy timeout let it run next to the store's writer thread. It must not read the wall clock:
//! every call takes the caller's `now` (nanoseconds since the Unix epoch, like every store
//! timestamp); the threat-intelligence crate decides what "now" is. It must not interpret the
//! `data` column: that is the caller's JSON.

use super::codec::{i64_of, u64_of};
use super::schema;
use crate::error::StoreError;
use crate::ip::{blob_to_ip, ip_to_blob};
use rusqlite::{Connection, OptionalExtension, params};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One cached answer about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedIntel {
    /// Who answered, e.g. `abuseipdb` or `blocklist`.
    pub source: String,
    /// The score the source gave (0–100 for AbuseIPDB).
    pub score: u8,
    /// The full answer as the caller serialized it (JSON text).
    pub data: String,
    /// When it was fetched, in nanoseconds since the Unix epoch.
    pub fetched_ts: u64,
    /// When it stops being fresh, in nanoseconds since the Unix epoch.
    pub expires_ts: u64,
}

/// A cache of threat-intelligence answers in the store's database file.
///
/// Synchronous: each call is one short SQLite statement (a point look-up or an upsert by
/// primary key). Meant for a background thread, never the packet path.
pub struct IntelCache {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for IntelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelCache")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl IntelCache {
    /// Opens (creating and migrating if needed) the database at `path`. Open it after the
    /// [`SqliteStore`](crate::SqliteStore) on the same file, so that one of them migrates a new
    /// file and not both at once.
    pub fn open(path: &Path) -> Result<IntelCache, StoreError> {
        let conn = schema::open_writer(path, schema::migration_count())?;
        Ok(IntelCache {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: &rusqlite::Error) -> StoreError {
        schema::sqlite_error(&self.path, e)
    }

    /// The answer cached for `ip`, unless there is none or it expired at or before `now_ns`.
    pub fn get(&self, ip: IpAddr, now_ns: u64) -> Result<Option<CachedIntel>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT source, score, data, fetched_ts, expires_ts FROM intel_cache
                 WHERE ip = ?1 AND expires_ts > ?2",
            )
            .map_err(|e| self.err(&e))?;
        let row = stmt
            .query_row(params![ip_to_blob(ip).as_slice(), i64_of(now_ns)], |r| {
                let score: i64 = r.get(1)?;
                Ok(CachedIntel {
                    source: r.get(0)?,
                    score: u8::try_from(score.clamp(0, i64::from(u8::MAX))).unwrap_or(u8::MAX),
                    data: r.get(2)?,
                    fetched_ts: u64_of(r.get(3)?),
                    expires_ts: u64_of(r.get(4)?),
                })
            })
            .optional()
            .map_err(|e| self.err(&e))?;
        Ok(row)
    }

    /// Stores (or replaces) the answer for `ip`.
    pub fn put(&self, ip: IpAddr, entry: &CachedIntel) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO intel_cache (ip, source, score, data, fetched_ts, expires_ts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (ip) DO UPDATE SET
                    source = excluded.source, score = excluded.score, data = excluded.data,
                    fetched_ts = excluded.fetched_ts, expires_ts = excluded.expires_ts",
            )
            .map_err(|e| self.err(&e))?;
        stmt.execute(params![
            ip_to_blob(ip).as_slice(),
            entry.source,
            i64::from(entry.score),
            entry.data,
            i64_of(entry.fetched_ts),
            i64_of(entry.expires_ts),
        ])
        .map_err(|e| self.err(&e))?;
        Ok(())
    }

    /// Deletes the answers that expired at or before `now_ns`; returns how many.
    pub fn purge_expired(&self, now_ns: u64) -> Result<usize, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM intel_cache WHERE expires_ts <= ?1")
            .map_err(|e| self.err(&e))?;
        stmt.execute([i64_of(now_ns)]).map_err(|e| self.err(&e))
    }

    /// Every address with an answer still fresh at `now_ns`, newest first, at most `limit`
    /// (to warm an in-memory cache at start).
    pub fn fresh(
        &self,
        now_ns: u64,
        limit: usize,
    ) -> Result<Vec<(IpAddr, CachedIntel)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ip, source, score, data, fetched_ts, expires_ts FROM intel_cache
                 WHERE expires_ts > ?1 ORDER BY fetched_ts DESC LIMIT ?2",
            )
            .map_err(|e| self.err(&e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![i64_of(now_ns), limit], |r| {
                let blob: Vec<u8> = r.get(0)?;
                let score: i64 = r.get(2)?;
                Ok((
                    blob_to_ip(&blob),
                    CachedIntel {
                        source: r.get(1)?,
                        score: u8::try_from(score.clamp(0, i64::from(u8::MAX))).unwrap_or(u8::MAX),
                        data: r.get(3)?,
                        fetched_ts: u64_of(r.get(4)?),
                        expires_ts: u64_of(r.get(5)?),
                    },
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(&e))?;
        // A row whose key is not 16 bytes was written by something else: skip it.
        Ok(rows
            .into_iter()
            .filter_map(|(ip, c)| ip.map(|ip| (ip, c)))
            .collect())
    }

    /// Number of rows, fresh or not.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM intel_cache", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        Ok(u64_of(n))
    }

    /// Whether the cache has no rows.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{SqliteStore, StoreConfig};

    const SEC: u64 = 1_000_000_000;

    fn entry(score: u8, fetched: u64, ttl: u64) -> CachedIntel {
        CachedIntel {
            source: "abuseipdb".to_string(),
            score,
            data: format!("{{\"score\":{score}}}"),
            fetched_ts: fetched,
            expires_ts: fetched + ttl,
        }
    }

    fn temp_dir() -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wirewatch-intel-cache-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn put_get_expire_purge() {
        let dir = temp_dir();
        let path = dir.join("w.db");
        let cache = IntelCache::open(&path).unwrap();
        assert!(cache.is_empty().unwrap());
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        let t0 = 1_700_000_000 * SEC;
        cache.put(v4, &entry(87, t0, 3600 * SEC)).unwrap();
        cache.put(v6, &entry(3, t0, 60 * SEC)).unwrap();
        assert_eq!(cache.len().unwrap(), 2);
        assert_eq!(cache.get(v4, t0).unwrap(), Some(entry(87, t0, 3600 * SEC)));
        assert_eq!(cache.get(v6, t0 + SEC).unwrap().unwrap().score, 3);
        // Expired at exactly expires_ts.
        assert_eq!(cache.get(v6, t0 + 60 * SEC).unwrap(), None);
        // Unknown address.
        assert_eq!(
            cache.get("198.51.100.1".parse().unwrap(), t0).unwrap(),
            None
        );
        // Replace.
        cache.put(v4, &entry(12, t0 + SEC, 3600 * SEC)).unwrap();
        assert_eq!(cache.get(v4, t0 + SEC).unwrap().unwrap().score, 12);
        assert_eq!(cache.len().unwrap(), 2);
        let fresh = cache.fresh(t0 + 61 * SEC, 10).unwrap();
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].0, v4);
        assert_eq!(cache.purge_expired(t0 + 61 * SEC).unwrap(), 1);
        assert_eq!(cache.len().unwrap(), 1);
        assert_eq!(cache.purge_expired(t0 + 61 * SEC).unwrap(), 0);
        drop(cache);
        // Survives a reopen ("restart").
        let cache = IntelCache::open(&path).unwrap();
        assert_eq!(cache.get(v4, t0 + 2 * SEC).unwrap().unwrap().score, 12);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn works_next_to_the_store_writer() {
        let dir = temp_dir();
        let path = dir.join("w.db");
        let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
        let cache = IntelCache::open(&path).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        cache.put(ip, &entry(50, SEC, SEC)).unwrap();
        assert!(cache.get(ip, SEC).unwrap().is_some());
        drop(store);
        assert!(cache.get(ip, SEC).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_foreign_and_newer_databases() {
        let dir = temp_dir();
        let foreign = dir.join("foreign.db");
        let conn = Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        drop(conn);
        assert!(matches!(
            IntelCache::open(&foreign),
            Err(StoreError::Corrupt { .. })
        ));
        let newer = dir.join("newer.db");
        let conn = Connection::open(&newer).unwrap();
        conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 999;")
            .unwrap();
        drop(conn);
        assert!(matches!(
            IntelCache::open(&newer),
            Err(StoreError::NewerSchema { found: 999, .. })
        ));
        let not_db = dir.join("text.db");
        std::fs::write(
            &not_db,
            "hello, this is not a database at all, not even close....".repeat(4),
        )
        .unwrap();
        assert!(matches!(
            IntelCache::open(&not_db),
            Err(StoreError::Corrupt { .. })
        ));
        let missing_dir = dir.join("nope").join("w.db");
        let err = IntelCache::open(&missing_dir).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
