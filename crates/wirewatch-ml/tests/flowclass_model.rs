//! Training on the shipped fixture, the metrics, the model file (save, load, refusals) and
//! identical predictions after reload.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use wirewatch_core::Timestamp;
use wirewatch_ml::flowclass::model::FORMAT_VERSION;
use wirewatch_ml::flowclass::{
    Dataset, FlowClass, FlowClassError, FlowFeatureAcc, FlowModel, PacketObs, TcpObs, TrainConfig,
    TrainProgress, read_dataset, train,
};

/// Named after the module so that `cargo test -p wirewatch-ml flowclass` selects them.
mod flowclass {
    use super::*;

    fn fixture() -> Dataset {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cicids2017-sample.csv");
        read_dataset(&path, &mut |_| {}).unwrap()
    }

    /// A small, fast configuration for the fixture.
    fn config() -> TrainConfig {
        TrainConfig {
            trees: 24,
            test_share: 0.25,
            ..TrainConfig::quick()
        }
    }

    fn trained(data: &Dataset, config: &TrainConfig) -> FlowModel {
        train(data, config, &mut |_| {}).unwrap()
    }

    #[test]
    fn training_scores_well_and_reports_small_classes() {
        let data = fixture();
        let mut trees_done = Vec::new();
        let mut split = None;
        let mut evaluated = 0;
        let model = train(&data, &config(), &mut |p| match p {
            TrainProgress::Split {
                classes,
                train_rows,
                test_rows,
            } => split = Some((classes, train_rows, test_rows)),
            TrainProgress::Tree { done, total } => trees_done.push((done, total)),
            TrainProgress::Evaluate { done, .. } => evaluated = done,
        })
        .unwrap();

        // Infiltration (3 rows) is left out: 7 classes, 436 rows, a quarter of each held out.
        let (classes, train_rows, test_rows) = split.unwrap();
        assert_eq!(classes, 7);
        assert_eq!(train_rows + test_rows, 436);
        assert_eq!(test_rows, 25 + 16 + 14 + 15 + 14 + 13 + 13);
        assert_eq!(evaluated, test_rows);
        assert_eq!(trees_done.len(), 24);
        assert_eq!(trees_done.last(), Some(&(24, 24)));

        let m = model.metrics();
        assert_eq!(m.classes.len(), 7);
        assert!(!m.classes.contains(&"Infiltration".to_string()));
        assert_eq!(m.excluded_classes.len(), 1);
        assert_eq!(m.excluded_classes[0].class, "Infiltration");
        assert_eq!(m.excluded_classes[0].rows, 3);
        assert_eq!(m.test_rows as usize, test_rows);
        assert_eq!(m.train_rows as usize, train_rows);
        let confusion_total: u64 = m.confusion.iter().flatten().sum();
        assert_eq!(confusion_total as usize, test_rows);
        // The fixture's classes are built to be separable; a sound forest gets nearly all right.
        assert!(m.macro_f1 > 0.9, "macro-F1 {}\n{}", m.macro_f1, m.report());
        for c in &m.per_class {
            assert!(c.recall > 0.7, "{}: {}\n{}", c.class, c.recall, m.report());
        }

        let report = m.report();
        assert!(
            report.contains("precision  recall      f1  support"),
            "{report}"
        );
        assert!(report.contains("macro-F1"), "{report}");
        assert!(report.contains("rows = true class"), "{report}");
        assert!(report.contains("Infiltration (3 rows)"), "{report}");

        let header = model.header();
        assert_eq!(header.features.len(), 77);
        assert_eq!(header.features[0], "Destination Port");
        assert_eq!(
            header
                .features
                .iter()
                .filter(|f| *f == "Fwd Header Length")
                .count(),
            1
        );
        assert_eq!(header.label_map.len(), 15);
        assert!(
            header
                .label_map
                .iter()
                .any(|l| l.label == "Heartbleed" && l.class == "DoS")
        );
    }

    #[test]
    fn save_load_gives_identical_predictions() {
        let data = fixture();
        let model = trained(&data, &config());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flows.wwflow");
        model.save(&path).unwrap();
        // Only the model file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("flows.wwflow")]);

        let loaded = FlowModel::load(&path).unwrap();
        assert_eq!(loaded.metrics(), model.metrics());
        assert_eq!(loaded.classes(), model.classes());
        assert_eq!(loaded.header().features, model.header().features);
        assert_eq!(loaded.header().config, model.header().config);
        assert_eq!(loaded.header().trees, 24);

        let before = model.predict_many(data.rows()).unwrap();
        let after = loaded.predict_many(data.rows()).unwrap();
        assert_eq!(before.len(), data.len());
        for (i, (a, b)) in before.iter().zip(&after).enumerate() {
            assert_eq!(a.class, b.class, "row {i}");
            assert_eq!(a.probability.to_bits(), b.probability.to_bits(), "row {i}");
        }
        // One at a time gives the same as the batch.
        for i in (0..data.len()).step_by(37) {
            assert_eq!(loaded.predict(data.row(i)).unwrap(), after[i]);
        }
        // Saving the loaded model reproduces the file byte for byte.
        let again = dir.path().join("again.wwflow");
        loaded.save(&again).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
    }

    #[test]
    fn training_is_deterministic_whatever_the_thread_count() {
        let data = fixture();
        let one = trained(
            &data,
            &TrainConfig {
                threads: 1,
                ..config()
            },
        );
        let two = trained(
            &data,
            &TrainConfig {
                threads: 2,
                ..config()
            },
        );
        assert_eq!(
            one.predict_many(data.rows()).unwrap(),
            two.predict_many(data.rows()).unwrap()
        );
        assert_eq!(one.metrics(), two.metrics());
        let other_seed = trained(
            &data,
            &TrainConfig {
                seed: 99,
                ..config()
            },
        );
        assert_ne!(
            one.predict_many(data.rows())
                .unwrap()
                .iter()
                .map(|p| p.probability)
                .collect::<Vec<_>>(),
            other_seed
                .predict_many(data.rows())
                .unwrap()
                .iter()
                .map(|p| p.probability)
                .collect::<Vec<_>>()
        );
    }

    /// Rewrites the JSON header of a saved model with `edit` and returns the new file.
    fn with_header(path: &Path, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
        let bytes = std::fs::read(path).unwrap();
        let end = bytes.iter().position(|&b| b == b'\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[..end]).unwrap();
        edit(&mut header);
        let mut out = serde_json::to_vec(&header).unwrap();
        out.extend_from_slice(&bytes[end..]);
        let edited = path.with_file_name("edited.wwflow");
        std::fs::write(&edited, out).unwrap();
        edited
    }

    #[test]
    fn load_refuses_other_versions_features_and_damage() {
        let data = fixture();
        let model = trained(
            &data,
            &TrainConfig {
                trees: 3,
                ..config()
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wwflow");
        model.save(&path).unwrap();

        let newer = with_header(&path, |h| h["format_version"] = (FORMAT_VERSION + 1).into());
        let err = FlowModel::load(&newer).unwrap_err();
        assert!(
            matches!(err, FlowClassError::FormatVersion { found, .. } if found == FORMAT_VERSION + 1)
        );
        assert!(
            err.to_string()
                .contains("retrain it with `wirewatch train`"),
            "{err}"
        );

        let renamed = with_header(&path, |h| h["features"][3] = "Total Bwd Packets".into());
        let err = FlowModel::load(&renamed).unwrap_err();
        assert!(
            matches!(err, FlowClassError::FeatureMismatch { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains(
                "feature 4 is `Total Bwd Packets`, this build has `Total Backward Packets`"
            ),
            "{err}"
        );

        let fewer = with_header(&path, |h| {
            h["features"].as_array_mut().unwrap().pop();
        });
        let err = FlowModel::load(&fewer).unwrap_err();
        assert!(
            err.to_string()
                .contains("76 features, this build extracts 77"),
            "{err}"
        );

        let unknown_class = with_header(&path, |h| h["classes"][0] = "Gremlins".into());
        let err = FlowModel::load(&unknown_class).unwrap_err();
        assert!(
            err.to_string().contains("unknown class `Gremlins`"),
            "{err}"
        );

        let bytes = std::fs::read(&path).unwrap();
        let truncated = dir.path().join("truncated.wwflow");
        std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
        let err = FlowModel::load(&truncated).unwrap_err();
        assert!(err.to_string().contains("truncated file?"), "{err}");

        let garbage = dir.path().join("garbage.wwflow");
        std::fs::write(&garbage, b"PK\x03\x04 not a model\n").unwrap();
        let err = FlowModel::load(&garbage).unwrap_err();
        assert!(matches!(err, FlowClassError::BadModelFile { .. }), "{err}");

        let other_format = with_header(&path, |h| h["format"] = "something-else".into());
        let err = FlowModel::load(&other_format).unwrap_err();
        assert!(err.to_string().contains("format `something-else`"), "{err}");

        let missing = dir.path().join("missing.wwflow");
        let err = FlowModel::load(&missing).unwrap_err();
        assert!(matches!(err, FlowClassError::Io { .. }), "{err}");
    }

    #[test]
    fn too_few_classes_or_a_bad_config_is_refused() {
        let data = fixture();
        let err = train(
            &data,
            &TrainConfig {
                min_class_rows: 1_000,
                ..config()
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, FlowClassError::NotEnoughData { .. }), "{err}");

        for bad in [
            TrainConfig {
                trees: 0,
                ..config()
            },
            TrainConfig {
                test_share: 1.0,
                ..config()
            },
            TrainConfig {
                test_share: 0.0,
                ..config()
            },
            TrainConfig {
                rows_per_class: 0,
                ..config()
            },
            TrainConfig {
                max_depth: Some(0),
                ..config()
            },
        ] {
            let err = train(&data, &bad, &mut |_| {}).unwrap_err();
            assert!(matches!(err, FlowClassError::BadConfig { .. }), "{err}");
        }
    }

    #[test]
    fn a_flow_from_the_extractor_is_classified() {
        let data = fixture();
        let model = trained(&data, &config());
        // A port-scan probe: SYN to a closed port, RST back 40 µs later.
        let mut acc = FlowFeatureAcc::new(3389);
        let ts = |us: u64| Timestamp::from_nanos(1_000_000_000_000 + us * 1_000);
        acc.on_packet(&PacketObs {
            ts: ts(0),
            forward: true,
            payload_len: 0,
            header_len: 24,
            tcp: Some(TcpObs {
                flags: 0x02,
                window: 1024,
            }),
        });
        acc.on_packet(&PacketObs {
            ts: ts(40),
            forward: false,
            payload_len: 0,
            header_len: 20,
            tcp: Some(TcpObs {
                flags: 0x14,
                window: 0,
            }),
        });
        let p = model.predict(&acc.features()).unwrap();
        assert_eq!(p.class, FlowClass::PortScan);
        assert!(p.probability > 0.5 && p.probability <= 1.0);
        assert!(p.is_threat(0.5));
        assert!(!p.is_threat(1.01));
    }
}
