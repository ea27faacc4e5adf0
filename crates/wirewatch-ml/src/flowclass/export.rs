//! Writes flows as CSV in the published CICIDS2017 layout: what `wirewatch export --format
//! cicflowmeter` produces, so users can label their own traffic and train on it (the dataset
//! reader reads these files like the published ones).

use std::io::Write;

use super::features::{CIC_COLUMNS, FeatureVector};

/// Writes flows as a CSV in the published layout (header first).
///
/// Numbers are written in Rust's shortest round-trip form, whole numbers without a decimal
/// point, so reading the file back gives the exact same values.
pub struct CicCsvWriter<W: Write> {
    out: csv::Writer<W>,
    cells: Vec<String>,
}

impl<W: Write> CicCsvWriter<W> {
    /// Starts a CSV on `out` and writes the header.
    pub fn new(out: W) -> csv::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        out.write_record(CIC_COLUMNS.iter().map(|c| c.name))?;
        Ok(CicCsvWriter {
            out,
            cells: Vec::with_capacity(CIC_COLUMNS.len()),
        })
    }

    /// Writes one flow with its label (e.g. `BENIGN`, a published label or a class name).
    pub fn write_flow(&mut self, features: &FeatureVector, label: &str) -> csv::Result<()> {
        self.cells.clear();
        self.cells.extend(features.iter().map(|&v| format_value(v)));
        self.cells.push(label.to_string());
        self.out.write_record(&self.cells)
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> std::result::Result<W, std::io::Error> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// Largest magnitude written without a fraction as an integer (exactly representable).
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A feature value as written to CSV: integers without `.0`, others in shortest form.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < MAX_EXACT_INTEGER {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_format_round_trip() {
        for v in [
            0.0,
            3.0,
            -1.0,
            0.1,
            1234.5678,
            1e-7,
            2e20,
            666666.6666666666,
        ] {
            let s = format_value(v);
            assert_eq!(s.parse::<f64>().ok(), Some(v), "{s}");
        }
        assert_eq!(format_value(40.0), "40");
        assert_eq!(format_value(f64::INFINITY), "Infinity");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}
