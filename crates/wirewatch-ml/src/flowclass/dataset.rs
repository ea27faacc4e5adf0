//! Reads CICIDS2017 `MachineLearningCVE` CSVs as published (and the CSVs of `wirewatch export
//! --format cicflowmeter`) into a deduplicated, labelled [`Dataset`]; stratified splits.
//!
//! The published files have quirks, each handled here and counted in [`ReadStats`]:
//!
//! - **Column names with leading spaces**: names are matched trimmed; columns are found by
//!   name, so extra columns (the `TrafficLabelling` files' addresses and timestamps) are
//!   ignored and a missing one is an error that names it.
//! - **`Fwd Header Length` twice**: the first occurrence fills the feature at position 35,
//!   the second (or pandas' `Fwd Header Length.1`) the one at 56; a file with only one fills
//!   both. Rows where the copies differ are counted; the model reads the first copy only.
//! - **`Infinity`, `NaN` and empty cells** (the rates of zero-duration flows) are *imputed*
//!   with [`UNDEFINED`] (-1), the value the feature extractor gives an undefined rate, rather
//!   than dropped: dropping them would leave the model blind to zero-duration flows, which
//!   port scans produce in numbers. Cells and rows are counted.
//! - **Bytes, not text**: records are read as bytes. The web-attack labels hold the
//!   Windows-1252 dash 0x96, which is not UTF-8; labels are matched on their letters and digits
//!   ([`map_label`]) and shown decoded as Windows-1252 ([`label_text`]).
//! - **Rows of empty cells** (one published file ends with hundreds of thousands of `,,,,`
//!   lines) are skipped and counted.
//! - **Duplicates**: a row whose features and class equal an earlier row's (in any file) is
//!   dropped and counted; duplicates would leak from the training into the test split.
//! - **Unknown labels** are skipped, counted, and listed (up to [`MAX_LABELS_LISTED`]).
//!
//! Memory: rows are kept as fixed arrays of 78 numbers (624 bytes each; the full CICIDS2017
//! set, about 2.5 million distinct rows, takes about 1.6 GB) plus an 8-byte hash per row for
//! deduplication.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::classes::{ALL_CLASSES, CLASS_COUNT, FlowClass, label_text, map_label};
use super::error::{FlowClassError, Result};
use super::features::{CIC_COLUMNS, FEATURE_COUNT, FeatureVector, UNDEFINED, col};
use wirewatch_core::rng::SplitMix64;

/// Classes with fewer rows than this (after deduplication) are reported and left out of
/// training: a 20 % test split then still holds 10 rows, so a per-class recall is measured
/// in steps of at most 10 %.
pub const MIN_CLASS_ROWS: usize = 50;

/// Rows between two progress reports while reading (a few per second at full speed).
pub const PROGRESS_EVERY_ROWS: u64 = 100_000;

/// Distinct labels listed in [`ReadStats`] (known and unknown each); the published set has 15.
pub const MAX_LABELS_LISTED: usize = 64;

/// Longest cell text quoted in an error message.
const MAX_CELL_SHOWN: usize = 40;

/// What reading found, for the report and the model file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadStats {
    /// CSV files read.
    pub files: usize,
    /// Data records read (header lines not counted).
    pub rows_read: u64,
    /// Rows kept in the dataset.
    pub rows_kept: u64,
    /// Records whose cells were all empty.
    pub empty_rows: u64,
    /// Rows dropped as exact duplicates (same features and class as an earlier row).
    pub duplicate_rows: u64,
    /// Kept rows that had at least one `Infinity`/`NaN`/empty cell (imputed with -1).
    pub rows_with_missing: u64,
    /// Cells imputed.
    pub missing_values: u64,
    /// Kept rows whose two `Fwd Header Length` copies differ.
    pub header_copies_differ: u64,
    /// Rows skipped because their label maps to no class.
    pub unknown_label_rows: u64,
    /// Unknown labels and their row counts (at most [`MAX_LABELS_LISTED`]).
    pub unknown_labels: BTreeMap<String, u64>,
    /// Labels seen on kept rows, with their class and row count (the label map).
    pub labels: BTreeMap<String, LabelCount>,
    /// Rows of labels beyond [`MAX_LABELS_LISTED`] (kept, not listed).
    pub labels_not_listed: u64,
}

/// One label of the label map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCount {
    /// The class it maps to.
    pub class: FlowClass,
    /// Kept rows with this label.
    pub rows: u64,
}

impl ReadStats {
    /// A few lines for the user: what was read, skipped, imputed and dropped.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "read {} rows from {} file(s): kept {}, duplicates dropped {}, empty rows skipped {}, \
             unknown labels skipped {}\n",
            self.rows_read,
            self.files,
            self.rows_kept,
            self.duplicate_rows,
            self.empty_rows,
            self.unknown_label_rows
        );
        s += &format!(
            "rows with Infinity/NaN/empty values imputed as -1: {} ({} values)\n",
            self.rows_with_missing, self.missing_values
        );
        if self.header_copies_differ > 0 {
            s += &format!(
                "rows whose two `Fwd Header Length` columns differ (first used): {}\n",
                self.header_copies_differ
            );
        }
        for (label, count) in &self.labels {
            s += &format!(
                "  {label:<28} -> {:<12} {:>9} rows\n",
                count.class, count.rows
            );
        }
        for (label, rows) in &self.unknown_labels {
            s += &format!("  {label:<28} -> (unknown)    {rows:>9} rows skipped\n");
        }
        s
    }
}

/// Where reading is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct ReadProgress<'a> {
    /// The file being read.
    pub file: &'a Path,
    /// Its position among the files (1-based).
    pub file_number: usize,
    /// Files to read in all.
    pub files: usize,
    /// Records read from this file so far.
    pub rows_in_file: u64,
    /// Records read from all files so far.
    pub rows_total: u64,
}

/// Labelled, deduplicated flows.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    rows: Vec<FeatureVector>,
    classes: Vec<FlowClass>,
    /// What reading found.
    pub stats: ReadStats,
}

/// Row indices of a stratified split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Training rows (after the per-class cap).
    pub train: Vec<usize>,
    /// Held-out rows.
    pub test: Vec<usize>,
    /// Training rows left out by the per-class cap.
    pub train_left_out: usize,
}

impl Dataset {
    /// Rows in the dataset.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the dataset has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The features of row `i` (panics on an index out of range, like slice indexing).
    pub fn row(&self, i: usize) -> &FeatureVector {
        &self.rows[i]
    }

    /// The class of row `i`.
    pub fn class(&self, i: usize) -> FlowClass {
        self.classes[i]
    }

    /// Every row's features.
    pub fn rows(&self) -> &[FeatureVector] {
        &self.rows
    }

    /// Every row's class.
    pub fn classes(&self) -> &[FlowClass] {
        &self.classes
    }

    /// Rows per class, indexed by [`FlowClass::index`].
    pub fn class_counts(&self) -> [usize; CLASS_COUNT] {
        let mut counts = [0; CLASS_COUNT];
        for c in &self.classes {
            counts[c.index()] += 1;
        }
        counts
    }

    /// Classes present with fewer than `min_rows` rows, and their counts.
    pub fn small_classes(&self, min_rows: usize) -> Vec<(FlowClass, usize)> {
        let counts = self.class_counts();
        ALL_CLASSES
            .into_iter()
            .filter(|c| counts[c.index()] > 0 && counts[c.index()] < min_rows)
            .map(|c| (c, counts[c.index()]))
            .collect()
    }

    /// Splits the rows of `classes` per class: a `test_share` of each class (at least one row
    /// of a class with two or more) is held out; of the rest at most `train_cap` rows per class
    /// are kept for training, chosen at random. The same seed gives the same split.
    pub fn stratified_split(
        &self,
        classes: &[FlowClass],
        test_share: f64,
        seed: u64,
        train_cap: usize,
    ) -> Split {
        let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); CLASS_COUNT];
        for (i, c) in self.classes.iter().enumerate() {
            per_class[c.index()].push(i);
        }
        let mut rng = SplitMix64::new(seed);
        let mut split = Split::default();
        for class in classes {
            let rows = &mut per_class[class.index()];
            rng.shuffle(rows);
            let n = rows.len();
            let n_test = if n < 2 {
                0
            } else {
                ((n as f64 * test_share).round() as usize).clamp(1, n - 1)
            };
            split.test.extend_from_slice(&rows[..n_test]);
            let train = &rows[n_test..];
            let kept = train.len().min(train_cap);
            split.train.extend_from_slice(&train[..kept]);
            split.train_left_out += train.len() - kept;
        }
        split
    }
}

/// Reads one CSV file or every `.csv` file of a directory (in name order).
pub fn read_dataset(path: &Path, progress: &mut dyn FnMut(&ReadProgress)) -> Result<Dataset> {
    let files = if path.is_dir() {
        csv_files(path)?
    } else {
        vec![path.to_path_buf()]
    };
    let mut reader = DatasetReader::new();
    let total = files.len();
    for (i, file) in files.iter().enumerate() {
        let f = std::fs::File::open(file).map_err(|source| FlowClassError::Io {
            path: file.clone(),
            source,
        })?;
        reader.read_from(std::io::BufReader::new(f), file, i + 1, total, progress)?;
    }
    Ok(reader.finish())
}

/// The `.csv` files of a directory, sorted by name.
fn csv_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let io_err = |source| FlowClassError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if is_csv && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(FlowClassError::NoCsvFiles {
            dir: dir.to_path_buf(),
        });
    }
    files.sort();
    Ok(files)
}

/// Builds a [`Dataset`] from one or more CSV sources, deduplicating across them.
#[derive(Debug, Default)]
pub struct DatasetReader {
    dataset: Dataset,
    /// Hash of (features, class) → first row with it. A hash shared by two different rows
    /// (odds about 10⁻⁷ over the whole dataset) only means the second is not deduplicated.
    seen: HashMap<u64, usize>,
}

/// Where each feature and the label are in a file's records.
struct Layout {
    features: [usize; FEATURE_COUNT],
    label: usize,
    /// Highest position read (a record must be longer).
    last: usize,
}

impl DatasetReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one CSV source; `name` is used in messages and progress reports.
    pub fn read_from<R: Read>(
        &mut self,
        source: R,
        name: &Path,
        file_number: usize,
        files: usize,
        progress: &mut dyn FnMut(&ReadProgress),
    ) -> Result<()> {
        let csv_err = |line: u64, source| FlowClassError::Csv {
            path: name.to_path_buf(),
            line,
            source,
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(source);
        let header = csv.byte_headers().map_err(|e| csv_err(1, e))?.clone();
        let layout = layout(&header, name)?;
        self.dataset.stats.files += 1;
        let mut report = ReadProgress {
            file: name,
            file_number,
            files,
            rows_in_file: 0,
            rows_total: self.dataset.stats.rows_read,
        };
        progress(&report);
        let mut record = csv::ByteRecord::new();
        loop {
            let more = csv
                .read_byte_record(&mut record)
                .map_err(|e| csv_err(record.position().map_or(0, |p| p.line()), e))?;
            if !more {
                break;
            }
            self.dataset.stats.rows_read += 1;
            report.rows_in_file += 1;
            let line = record.position().map_or(0, |p| p.line());
            self.add_record(&record, &layout, name, line)?;
            if report.rows_in_file.is_multiple_of(PROGRESS_EVERY_ROWS) {
                report.rows_total = self.dataset.stats.rows_read;
                progress(&report);
            }
        }
        report.rows_total = self.dataset.stats.rows_read;
        progress(&report);
        Ok(())
    }

    fn add_record(
        &mut self,
        record: &csv::ByteRecord,
        layout: &Layout,
        name: &Path,
        line: u64,
    ) -> Result<()> {
        let stats = &mut self.dataset.stats;
        if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            stats.empty_rows += 1;
            return Ok(());
        }
        if record.len() <= layout.last {
            return Err(FlowClassError::ShortRecord {
                path: name.to_path_buf(),
                line,
                found: record.len(),
                needed: layout.last + 1,
            });
        }
        let raw_label = record.get(layout.label).unwrap_or_default();
        let Some(class) = map_label(raw_label) else {
            stats.unknown_label_rows += 1;
            let text = label_text(raw_label);
            if stats.unknown_labels.len() < MAX_LABELS_LISTED
                || stats.unknown_labels.contains_key(&text)
            {
                *stats.unknown_labels.entry(text).or_default() += 1;
            }
            return Ok(());
        };
        let mut row = [0.0; FEATURE_COUNT];
        let mut missing = 0;
        for (i, (slot, &pos)) in row.iter_mut().zip(&layout.features).enumerate() {
            let cell = record.get(pos).unwrap_or_default();
            *slot = match parse_cell(cell) {
                Cell::Number(v) => v,
                Cell::Missing => {
                    missing += 1;
                    UNDEFINED
                }
                Cell::Bad => {
                    return Err(FlowClassError::BadNumber {
                        path: name.to_path_buf(),
                        line,
                        column: pos + 1,
                        name: CIC_COLUMNS[i].canonical,
                        value: shown(cell),
                    });
                }
            };
        }
        let key = row_hash(&row, class);
        if let Some(&first) = self.seen.get(&key) {
            if self.dataset.rows[first] == row && self.dataset.classes[first] == class {
                stats.duplicate_rows += 1;
                return Ok(());
            }
        } else {
            self.seen.insert(key, self.dataset.rows.len());
        }
        if missing > 0 {
            stats.rows_with_missing += 1;
            stats.missing_values += missing;
        }
        if row[col::FWD_HEADER_LEN] != row[col::FWD_HEADER_LEN_DUP] {
            stats.header_copies_differ += 1;
        }
        stats.rows_kept += 1;
        let text = label_text(raw_label);
        if let Some(entry) = stats.labels.get_mut(&text) {
            entry.rows += 1;
        } else if stats.labels.len() < MAX_LABELS_LISTED {
            stats.labels.insert(text, LabelCount { class, rows: 1 });
        } else {
            stats.labels_not_listed += 1;
        }
        self.dataset.rows.push(row);
        self.dataset.classes.push(class);
        Ok(())
    }

    /// The dataset read so far.
    pub fn finish(self) -> Dataset {
        self.dataset
    }
}

/// Finds every feature and the label in a header.
fn layout(header: &csv::ByteRecord, name: &Path) -> Result<Layout> {
    let names: Vec<&[u8]> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h)
            } else {
                h
            };
            h.trim_ascii()
        })
        .collect();
    let find_all = |wanted: &str| -> Vec<usize> {
        names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.eq_ignore_ascii_case(wanted.as_bytes()))
            .map(|(i, _)| i)
            .collect()
    };
    let missing = |column: &'static str| FlowClassError::MissingColumn {
        path: name.to_path_buf(),
        column,
    };
    let mut features = [0; FEATURE_COUNT];
    for (i, slot) in features.iter_mut().enumerate() {
        let canonical = CIC_COLUMNS[i].canonical;
        let found = find_all(canonical);
        *slot = if i == col::FWD_HEADER_LEN_DUP {
            let pandas_copy = find_all("Fwd Header Length.1");
            found
                .get(1)
                .or(pandas_copy.first())
                .or(found.first())
                .copied()
                .ok_or_else(|| missing(canonical))?
        } else {
            found.first().copied().ok_or_else(|| missing(canonical))?
        };
    }
    let label_name = CIC_COLUMNS[col::LABEL].canonical;
    let label = find_all(label_name)
        .first()
        .copied()
        .ok_or_else(|| missing(label_name))?;
    let last = features.iter().copied().max().unwrap_or(0).max(label);
    Ok(Layout {
        features,
        label,
        last,
    })
}

/// A parsed cell.
enum Cell {
    Number(f64),
    Missing,
    Bad,
}

/// Parses a numeric cell; `Infinity`, `NaN`, empty and out-of-range numbers are missing.
fn parse_cell(cell: &[u8]) -> Cell {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Cell::Missing;
    }
    let Ok(text) = std::str::from_utf8(cell) else {
        return Cell::Bad;
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Cell::Number(if v == 0.0 { 0.0 } else { v }),
        Ok(_) => Cell::Missing,
        Err(_) => {
            let word = text.trim_start_matches(['+', '-']);
            if word.eq_ignore_ascii_case("infinity")
                || word.eq_ignore_ascii_case("inf")
                || word.eq_ignore_ascii_case("nan")
            {
                Cell::Missing
            } else {
                Cell::Bad
            }
        }
    }
}

/// A cell for an error message: lossy text, shortened.
fn shown(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(cell);
    text.chars().take(MAX_CELL_SHOWN).collect()
}

/// Hash of a row's exact values and class (fixed keys: the same on every run).
fn row_hash(row: &FeatureVector, class: FlowClass) -> u64 {
    let mut h = DefaultHasher::new();
    for v in row {
        v.to_bits().hash(&mut h);
    }
    class.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_with_the_published_markers() {
        assert!(matches!(parse_cell(b" 12.5 "), Cell::Number(v) if v == 12.5));
        assert!(matches!(parse_cell(b"-1"), Cell::Number(v) if v == -1.0));
        assert!(matches!(parse_cell(b"-0"), Cell::Number(v) if v.to_bits() == 0));
        for missing in [
            &b"Infinity"[..],
            b"-Infinity",
            b"NaN",
            b"nan",
            b"",
            b"  ",
            b"1e999",
        ] {
            assert!(matches!(parse_cell(missing), Cell::Missing), "{missing:?}");
        }
        for bad in [&b"abc"[..], b"1,2", b"\x96"] {
            assert!(matches!(parse_cell(bad), Cell::Bad), "{bad:?}");
        }
    }

    #[test]
    fn split_is_stratified_capped_and_seeded() {
        let mut d = Dataset::default();
        for i in 0..100 {
            d.rows.push([i as f64; FEATURE_COUNT]);
            d.classes.push(if i < 80 {
                FlowClass::Benign
            } else {
                FlowClass::PortScan
            });
        }
        let classes = [FlowClass::Benign, FlowClass::PortScan];
        let s = d.stratified_split(&classes, 0.25, 1, usize::MAX);
        assert_eq!(s.test.len(), 20 + 5);
        assert_eq!(s.train.len(), 60 + 15);
        let test_scans = s.test.iter().filter(|&&i| i >= 80).count();
        assert_eq!(test_scans, 5);
        assert_eq!(s, d.stratified_split(&classes, 0.25, 1, usize::MAX));
        assert_ne!(
            s.test,
            d.stratified_split(&classes, 0.25, 2, usize::MAX).test
        );
        let capped = d.stratified_split(&classes, 0.25, 1, 10);
        assert_eq!(capped.train.len(), 20);
        assert_eq!(capped.train_left_out, 50 + 5);
        assert_eq!(capped.test, s.test);
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }
}
