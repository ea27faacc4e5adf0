//! Evaluation of a classifier on held-out rows: per-class precision, recall and F1, macro-F1,
//! accuracy and the confusion matrix, and their text report.

use serde::{Deserialize, Serialize};

/// Scores of one class on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Of the rows predicted as this class, the share that are (0 when none predicted).
    pub precision: f64,
    /// Of the rows of this class, the share predicted as it (0 when there are none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Test rows of this class.
    pub support: u64,
}

/// A class left out of training, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedClass {
    /// Class name.
    pub class: String,
    /// Rows it had after deduplication.
    pub rows: u64,
}

/// Everything measured on the test split, saved in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Classes the model knows, in index order (rows and columns of `confusion`).
    pub classes: Vec<String>,
    /// Scores per class, in `classes` order.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean of the per-class F1 scores.
    pub macro_f1: f64,
    /// Share of test rows predicted correctly.
    pub accuracy: f64,
    /// `confusion[true][predicted]` row counts.
    pub confusion: Vec<Vec<u64>>,
    /// Rows the trees were trained on.
    pub train_rows: u64,
    /// Rows of the test split.
    pub test_rows: u64,
    /// Training rows left out by the per-class cap.
    pub train_rows_left_out: u64,
    /// Classes with too few rows, not trained.
    pub excluded_classes: Vec<ExcludedClass>,
    /// The row count under which a class was excluded.
    pub min_class_rows: u64,
}

impl Metrics {
    /// Computes the scores from a confusion matrix (`confusion[true][predicted]`).
    pub fn from_confusion(classes: Vec<String>, confusion: Vec<Vec<u64>>) -> Metrics {
        let k = classes.len();
        let total: u64 = confusion.iter().flatten().sum();
        let correct: u64 = (0..k).map(|i| cell(&confusion, i, i)).sum();
        let per_class: Vec<ClassMetrics> = classes
            .iter()
            .enumerate()
            .map(|(i, class)| {
                let tp = cell(&confusion, i, i) as f64;
                let predicted: u64 = (0..k).map(|t| cell(&confusion, t, i)).sum();
                let support: u64 = (0..k).map(|p| cell(&confusion, i, p)).sum();
                let precision = ratio(tp, predicted as f64);
                let recall = ratio(tp, support as f64);
                let f1 = ratio(2.0 * precision * recall, precision + recall);
                ClassMetrics {
                    class: class.clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let macro_f1 = ratio(per_class.iter().map(|m| m.f1).sum(), k as f64);
        Metrics {
            classes,
            per_class,
            macro_f1,
            accuracy: ratio(correct as f64, total as f64),
            confusion,
            train_rows: 0,
            test_rows: total,
            train_rows_left_out: 0,
            excluded_classes: Vec::new(),
            min_class_rows: 0,
        }
    }

    /// The scores as a text table, then the confusion matrix (rows = true class, columns =
    /// predicted class) and the classes left out.
    pub fn report(&self) -> String {
        let width = self
            .classes
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max("class".len());
        let mut s = format!("{:<width$}  precision  recall      f1  support\n", "class");
        for m in &self.per_class {
            s += &format!(
                "{:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}\n",
                m.class, m.precision, m.recall, m.f1, m.support
            );
        }
        s += &format!(
            "macro-F1 {:.4}, accuracy {:.4} ({} test rows; trained on {} rows, {} more left out by the per-class cap)\n",
            self.macro_f1, self.accuracy, self.test_rows, self.train_rows, self.train_rows_left_out
        );
        s += "\nconfusion matrix (rows = true class, columns = predicted class):\n";
        let col_width = self
            .confusion
            .iter()
            .flatten()
            .map(|v| v.to_string().len())
            .chain(self.classes.iter().map(|c| c.len().min(12)))
            .max()
            .unwrap_or(1);
        s += &format!("{:<width$}", "");
        for c in &self.classes {
            let short: String = c.chars().take(12).collect();
            s += &format!("  {short:>col_width$}");
        }
        s += "\n";
        for (class, row) in self.classes.iter().zip(&self.confusion) {
            s += &format!("{class:<width$}");
            for v in row {
                s += &format!("  {v:>col_width$}");
            }
            s += "\n";
        }
        if !self.excluded_classes.is_empty() {
            let list: Vec<String> = self
                .excluded_classes
                .iter()
                .map(|e| format!("{} ({} rows)", e.class, e.rows))
                .collect();
            s += &format!(
                "\nnot trained, fewer than {} rows: {}\n",
                self.min_class_rows,
                list.join(", ")
            );
        }
        s
    }
}

fn cell(m: &[Vec<u64>], t: usize, p: usize) -> u64 {
    m.get(t).and_then(|row| row.get(p)).copied().unwrap_or(0)
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_a_confusion_matrix() {
        // true A: 8 right, 2 as B; true B: 1 as A, 4 right; true C: 5 right.
        let m = Metrics::from_confusion(
            vec!["A".into(), "B".into(), "C".into()],
            vec![vec![8, 2, 0], vec![1, 4, 0], vec![0, 0, 5]],
        );
        let a = &m.per_class[0];
        assert!((a.precision - 8.0 / 9.0).abs() < 1e-12);
        assert!((a.recall - 0.8).abs() < 1e-12);
        let b = &m.per_class[1];
        assert!((b.precision - 4.0 / 6.0).abs() < 1e-12);
        assert!((b.recall - 0.8).abs() < 1e-12);
        assert_eq!(m.per_class[2].f1, 1.0);
        assert_eq!(m.test_rows, 20);
        assert!((m.accuracy - 17.0 / 20.0).abs() < 1e-12);
        let f1 = |p: f64, r: f64| 2.0 * p * r / (p + r);
        let expected = (f1(8.0 / 9.0, 0.8) + f1(4.0 / 6.0, 0.8) + 1.0) / 3.0;
        assert!((m.macro_f1 - expected).abs() < 1e-12);
        let report = m.report();
        assert!(report.contains("macro-F1"));
        assert!(report.contains("rows = true class"));
    }

    #[test]
    fn empty_classes_score_zero_not_nan() {
        let m = Metrics::from_confusion(vec!["A".into(), "B".into()], vec![vec![3, 0], vec![0, 0]]);
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        assert!(m.macro_f1.is_finite());
    }
}
