//! The CICIDS2017 reader on the shipped fixture (published format, quirks included) and on
//! CSVs written by our own exporter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use wirewatch_ml::flowclass::features::{FEATURE_COUNT, UNDEFINED, col, header_line};
use wirewatch_ml::flowclass::{
    CicCsvWriter, Dataset, DatasetReader, FlowClass, FlowClassError, MIN_CLASS_ROWS, read_dataset,
};

/// Named after the module so that `cargo test -p wirewatch-ml flowclass` selects them.
mod flowclass {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cicids2017-sample.csv")
    }

    fn read_bytes(csv: &[u8]) -> Result<Dataset, FlowClassError> {
        let mut reader = DatasetReader::new();
        reader.read_from(csv, Path::new("inline.csv"), 1, 1, &mut |_| {})?;
        Ok(reader.finish())
    }

    #[test]
    fn fixture_has_the_published_header_and_quirks() {
        let bytes = std::fs::read(fixture()).unwrap();
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap();
        let first_line = String::from_utf8(first_line.to_vec()).unwrap();
        assert_eq!(first_line.trim_end_matches('\r'), header_line());
        assert!(first_line.starts_with(" Destination Port, Flow Duration,"));
        assert_eq!(first_line.matches(" Fwd Header Length,").count(), 2);
        // The web-attack labels carry the Windows-1252 dash, which is not UTF-8.
        assert!(bytes.windows(13).any(|w| w == b"Web Attack \x96 "));
        assert!(std::str::from_utf8(&bytes).is_err());
        assert!(bytes.windows(8).any(|w| w == b"Infinity"));
        assert!(bytes.windows(4).any(|w| w == b",NaN"));
        assert!(bytes.len() < 200 * 1024);
    }

    #[test]
    fn reader_counts_rows_duplicates_and_imputed_values() {
        let mut reports = 0;
        let d = read_dataset(&fixture(), &mut |p| {
            reports += 1;
            assert_eq!((p.file_number, p.files), (1, 1));
        })
        .unwrap();
        assert!(reports >= 2, "a report at the start and one at the end");
        let s = &d.stats;
        assert_eq!(s.files, 1);
        assert_eq!(s.rows_read, 448);
        assert_eq!(s.empty_rows, 3);
        assert_eq!(s.duplicate_rows, 6);
        assert_eq!(s.rows_kept, 439);
        assert_eq!(d.len(), 439);
        assert_eq!(s.rows_with_missing, 15);
        assert_eq!(s.missing_values, 30);
        assert_eq!(s.unknown_label_rows, 0);
        assert_eq!(s.header_copies_differ, 0);

        let counts = d.class_counts();
        let count = |c: FlowClass| counts[c.index()];
        assert_eq!(count(FlowClass::Benign), 100);
        assert_eq!(count(FlowClass::DoS), 62);
        assert_eq!(count(FlowClass::DDoS), 55);
        assert_eq!(count(FlowClass::PortScan), 60);
        assert_eq!(count(FlowClass::BruteForce), 55);
        assert_eq!(count(FlowClass::WebAttack), 52);
        assert_eq!(count(FlowClass::Botnet), 52);
        assert_eq!(count(FlowClass::Infiltration), 3);
        assert_eq!(
            d.small_classes(MIN_CLASS_ROWS),
            vec![(FlowClass::Infiltration, 3)]
        );

        // Imputed cells hold the extractor's value for an undefined rate.
        let imputed = (0..d.len())
            .filter(|&i| d.row(i)[col::FLOW_PACKETS_PER_S] == UNDEFINED)
            .count();
        assert_eq!(imputed, 15);
        assert!(d.rows().iter().flatten().all(|v| v.is_finite()));
    }

    #[test]
    fn label_map_decodes_the_windows_1252_dash() {
        let d = read_dataset(&fixture(), &mut |_| {}).unwrap();
        let labels = &d.stats.labels;
        let web = labels.get("Web Attack \u{2013} Brute Force").unwrap();
        assert_eq!(web.class, FlowClass::WebAttack);
        assert_eq!(web.rows, 30);
        assert_eq!(
            labels["Web Attack \u{2013} XSS"].class,
            FlowClass::WebAttack
        );
        assert_eq!(
            labels["Web Attack \u{2013} Sql Injection"].class,
            FlowClass::WebAttack
        );
        assert_eq!(labels["Heartbleed"].class, FlowClass::DoS);
        assert_eq!(labels["FTP-Patator"].class, FlowClass::BruteForce);
        assert_eq!(labels["Bot"].class, FlowClass::Botnet);
        assert_eq!(labels.len(), 15);
        let summary = d.stats.summary();
        assert!(summary.contains("duplicates dropped 6"), "{summary}");
        assert!(summary.contains("imputed as -1: 15"), "{summary}");
    }

    #[test]
    fn reading_a_directory_deduplicates_across_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(fixture(), dir.path().join("a.csv")).unwrap();
        std::fs::copy(fixture(), dir.path().join("b.CSV")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a csv").unwrap();
        let mut files_seen = Vec::new();
        let d = read_dataset(dir.path(), &mut |p| {
            files_seen.push((p.file_number, p.files));
        })
        .unwrap();
        assert_eq!(d.stats.files, 2);
        assert_eq!(d.len(), 439);
        // The second copy repeats all 445 non-empty records of the first.
        assert_eq!(d.stats.duplicate_rows, 6 + 445);
        assert!(files_seen.contains(&(2, 2)));

        let empty = tempfile::tempdir().unwrap();
        let err = read_dataset(empty.path(), &mut |_| {}).unwrap_err();
        assert!(matches!(err, FlowClassError::NoCsvFiles { .. }), "{err}");
    }

    #[test]
    fn exported_csv_reads_back_exactly() {
        let mut features = [0.0; FEATURE_COUNT];
        for (i, v) in features.iter_mut().enumerate() {
            *v = i as f64 * 1.25 + 0.1;
        }
        features[col::FWD_HEADER_LEN_DUP] = features[col::FWD_HEADER_LEN];
        features[col::FLOW_BYTES_PER_S] = UNDEFINED;
        let mut other = features;
        other[col::DESTINATION_PORT] = 22.0;

        let mut w = CicCsvWriter::new(Vec::new()).unwrap();
        w.write_flow(&features, "BENIGN").unwrap();
        w.write_flow(&other, "BruteForce").unwrap();
        w.write_flow(&other, "Mystery").unwrap();
        let csv = w.into_inner().unwrap();
        assert!(csv.starts_with(header_line().as_bytes()));

        let d = read_bytes(&csv).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.row(0), &features);
        assert_eq!(d.row(1), &other);
        assert_eq!(d.class(1), FlowClass::BruteForce);
        assert_eq!(d.stats.unknown_label_rows, 1);
        assert_eq!(d.stats.unknown_labels["Mystery"], 1);
        assert_eq!(
            d.stats.missing_values, 0,
            "-1 is a value, not a missing cell"
        );
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        // Label first, extra columns, LF line endings, a single `Fwd Header Length`, the
        // duplicate under pandas' name: every feature still lands in its slot.
        let mut names: Vec<String> = wirewatch_ml::flowclass::CIC_COLUMNS
            .iter()
            .map(|c| c.canonical.to_string())
            .collect();
        names[col::FWD_HEADER_LEN_DUP] = "Fwd Header Length.1".to_string();
        let label = names.pop().unwrap();
        let mut header = vec![label, " Source IP".to_string()];
        header.extend(names);
        let mut row = vec!["PortScan".to_string(), "10.0.0.1".to_string()];
        row.extend((0..FEATURE_COUNT).map(|i| i.to_string()));
        let csv = format!("{}\n{}\n", header.join(","), row.join(","));
        let d = read_bytes(csv.as_bytes()).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d.class(0), FlowClass::PortScan);
        for i in 0..FEATURE_COUNT {
            assert_eq!(d.row(0)[i], i as f64);
        }
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let header = header_line();
        let good: Vec<String> = (0..FEATURE_COUNT).map(|_| "1".to_string()).collect();

        let mut bad = good.clone();
        bad[col::FLOW_DURATION] = "12abc".to_string();
        let csv = format!(
            "{header}\n{},BENIGN\n{},BENIGN\n",
            good.join(","),
            bad.join(",")
        );
        let err = read_bytes(csv.as_bytes()).unwrap_err();
        match &err {
            FlowClassError::BadNumber {
                line,
                column,
                name,
                value,
                ..
            } => {
                assert_eq!((*line, *column), (3, 2));
                assert_eq!(*name, "Flow Duration");
                assert_eq!(value, "12abc");
            }
            other => panic!("unexpected {other}"),
        }
        assert!(
            err.to_string().contains("inline.csv: line 3, column 2"),
            "{err}"
        );

        let csv = format!("{header}\n1,2,3\n");
        let err = read_bytes(csv.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                FlowClassError::ShortRecord {
                    line: 2,
                    found: 3,
                    ..
                }
            ),
            "{err}"
        );

        let csv = header.replace(" Flow IAT Max,", " Something Else,");
        let err = read_bytes(csv.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                FlowClassError::MissingColumn {
                    column: "Flow IAT Max",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("`Flow IAT Max`"), "{err}");

        let err = read_dataset(Path::new("/nonexistent/x.csv"), &mut |_| {}).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.csv:"), "{err}");
    }
}
