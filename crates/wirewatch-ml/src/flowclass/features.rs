//! The CICFlowMeter feature set of the CICIDS2017 `MachineLearningCVE` CSVs, and which of its
//! columns a model reads.
//!
//! The column table ([`CIC_COLUMNS`]: published names, units, meanings, in the published order),
//! [`FeatureVector`] and the column indices ([`col`]) are defined next to the accumulator that
//! fills them, in [`wirewatch_flow::features::columns`], and re-exported here unchanged. A row
//! read from a published file and a flow measured by the flow table line up index for index,
//! the duplicated `Fwd Header Length` included; the model reads that duplicate only once
//! ([`model_feature_indices`]).
//!
//! [`super::export::CicCsvWriter`] writes flows in this exact layout.

pub use wirewatch_flow::features::columns::{
    CIC_COLUMNS, CicColumn, FEATURE_COUNT, FeatureVector, UNDEFINED, Unit, col, header_line,
};

/// Indices of the features a model reads: every feature column once (the second
/// `Fwd Header Length` is left out, it always equals the first).
pub fn model_feature_indices() -> Vec<usize> {
    (0..FEATURE_COUNT)
        .filter(|&i| i != col::FWD_HEADER_LEN_DUP)
        .collect()
}

/// Canonical names of the features a model reads, in [`model_feature_indices`] order.
pub fn model_feature_names() -> Vec<String> {
    model_feature_indices()
        .into_iter()
        .map(|i| CIC_COLUMNS[i].canonical.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_header_column_is_read_once() {
        let idx = model_feature_indices();
        assert_eq!(idx.len(), FEATURE_COUNT - 1);
        assert!(!idx.contains(&col::FWD_HEADER_LEN_DUP));
        assert_eq!(
            CIC_COLUMNS[col::FWD_HEADER_LEN].canonical,
            CIC_COLUMNS[col::FWD_HEADER_LEN_DUP].canonical
        );
        let names = model_feature_names();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "model feature names are unique");
    }
}
