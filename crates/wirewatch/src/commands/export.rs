//! `wirewatch export`: stored history as CSV (RFC 4180, with a header), JSON or JSON lines.

use crate::cli::{ExportArgs, FilterArgs, Format, ResolutionArg, What};
use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use wirewatch_core::time::TimeSpec;
use wirewatch_store::params::flatten;
use wirewatch_store::{
    Query, Resolution, SqliteStore, Store, StoreConfig, for_each_page, newest_packet_time,
    parse_ip_filter,
};

impl FilterArgs {
    /// The store query these filters describe; relative times (`-1h`) count back from the
    /// newest packet time `store` holds.
    pub fn query(&self, store: &dyn Store) -> anyhow::Result<Query> {
        let newest = std::cell::OnceCell::new();
        let at = |spec: Option<TimeSpec>, name: &str| -> anyhow::Result<_> {
            spec.map(|s| {
                s.resolve(*newest.get_or_init(|| newest_packet_time(store)))
                    .with_context(|| {
                        format!("--{name}: a relative time needs stored intervals to count back from, and the database has none")
                    })
            })
            .transpose()
        };
        let (from, to) = (at(self.from, "from")?, at(self.to, "to")?);
        let ip = match &self.ip {
            Some(s) => Some(parse_ip_filter(s)?),
            None => None,
        };
        let q = Query {
            from,
            to,
            ip,
            port: self.port,
            proto: self.proto,
            name: self.name.clone(),
            kind: self.kind.clone(),
            min_severity: self.severity,
            text: self.text.clone(),
            ..Query::default()
        };
        q.validate()?;
        Ok(q)
    }
}

/// Rows fetched per query while exporting.
const PAGE: usize = 10_000;

/// Runs `wirewatch export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<i32> {
    if !args.db.is_file() {
        bail!(
            "{}: no such database (record one with `wirewatch run --db` or `wirewatch analyze --db`)",
            args.db.display()
        );
    }
    let store = SqliteStore::open(&StoreConfig::new(args.db.clone()))?;
    let mut query = args.filters.query(&store)?;
    query.resolution = match args.resolution {
        ResolutionArg::Auto => Resolution::Auto,
        ResolutionArg::Raw => Resolution::Raw,
        ResolutionArg::Minute => Resolution::Minute,
        ResolutionArg::Hour => Resolution::Hour,
    };
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if args.format == Format::Cicflowmeter {
        if args.what != What::Flows {
            bail!("--format cicflowmeter exports flows: use it with --what flows");
        }
        return export_cicflowmeter(&store, query, &args.label, out);
    }
    let mut writer = RowWriter::new(args.format, out);
    let fetch = |q: &Query| match args.what {
        What::Intervals => store.intervals(q).map(as_values),
        What::Talkers => store.talkers(q).map(as_values),
        What::Flows => store.flows(q).map(as_values),
        What::Alerts => store.alerts(q).map(as_values),
        What::Transactions => store.transactions(q).map(as_values),
    };
    for_each_page(query, PAGE, fetch, |rows| -> anyhow::Result<()> {
        for row in rows {
            writer.row(row)?;
        }
        Ok(())
    })?;
    writer.finish().context("cannot write the export")?;
    Ok(0)
}

/// Writes the flows matching `query` that have features, as a CICIDS2017-style CSV.
fn export_cicflowmeter(
    store: &SqliteStore,
    query: Query,
    label: &str,
    out: Box<dyn Write>,
) -> anyhow::Result<i32> {
    use wirewatch_ml::flowclass::{CicCsvWriter, FEATURE_COUNT};
    let mut w = CicCsvWriter::new(out).context("cannot write the export")?;
    let (mut written, mut without) = (0u64, 0u64);
    for_each_page(
        query,
        PAGE,
        |q| store.flows(q),
        |rows| -> anyhow::Result<()> {
            for row in rows {
                match row.features.as_deref() {
                    Some(f) if f.len() == FEATURE_COUNT => {
                        let mut v = [0.0; FEATURE_COUNT];
                        v.copy_from_slice(f);
                        w.write_flow(&v, label).context("cannot write the export")?;
                        written += 1;
                    }
                    _ => without += 1,
                }
            }
            Ok(())
        },
    )?;
    w.into_inner().context("cannot write the export")?.flush()?;
    if written == 0 && without > 0 {
        bail!(
            "none of the {without} flows has features: record with `[flows] flow_features = true` \
             in the config (or with a flow classifier configured)"
        );
    }
    if without > 0 {
        eprintln!("note: {without} flows without features were left out");
    }
    Ok(0)
}

/// A page's rows as JSON values (one writer for every table).
fn as_values<T: Serialize>(p: wirewatch_store::Page<T>) -> wirewatch_store::Page<Value> {
    wirewatch_store::Page {
        rows: p
            .rows
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
        total: p.total,
        offset: p.offset,
        limit: p.limit,
    }
}

/// Writes rows in one of the formats.
enum RowWriter {
    Csv {
        out: Box<csv::Writer<Box<dyn Write>>>,
        header: bool,
    },
    Json {
        out: Box<dyn Write>,
        rows: usize,
    },
    Jsonl {
        out: Box<dyn Write>,
    },
}

impl RowWriter {
    fn new(format: Format, out: Box<dyn Write>) -> Self {
        match format {
            // The cicflowmeter format has its own writer (`export_cicflowmeter`).
            Format::Csv | Format::Cicflowmeter => RowWriter::Csv {
                out: Box::new(csv::Writer::from_writer(out)),
                header: false,
            },
            Format::Json => RowWriter::Json { out, rows: 0 },
            Format::Jsonl => RowWriter::Jsonl { out },
        }
    }

    fn row(&mut self, row: Value) -> anyhow::Result<()> {
        match self {
            RowWriter::Jsonl { out } => {
                serde_json::to_writer(&mut *out, &row)?;
                writeln!(out)?;
            }
            RowWriter::Json { out, rows } => {
                out.write_all(if *rows == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &row)?;
                *rows += 1;
            }
            RowWriter::Csv { out, header } => {
                let mut flat = Vec::new();
                flatten("", &row, &mut flat);
                if !*header {
                    out.write_record(flat.iter().map(|(k, _)| k.as_str()))?;
                    *header = true;
                }
                out.write_record(flat.iter().map(|(_, v)| v.as_str()))?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            RowWriter::Csv { mut out, .. } => out.flush()?,
            RowWriter::Json { mut out, rows } => {
                out.write_all(if rows == 0 { b"[]\n" } else { b"\n]\n" })?;
                out.flush()?;
            }
            RowWriter::Jsonl { mut out } => out.flush()?,
        }
        Ok(())
    }
}
