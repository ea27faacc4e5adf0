//! The CICFlowMeter feature set of the CICIDS2017 `MachineLearningCVE` CSVs: one table with
//! every column's published name, its trimmed name, unit and meaning, in the published order.
//!
//! The published header is reproduced byte for byte (most names start with a space, and
//! `Fwd Header Length` appears twice, at positions 35 and 56 counting from 1). 78 feature
//! columns are followed by ` Label`. A [`FeatureVector`] holds the 78 features in this order,
//! the duplicate included, so that a row read from a published file and a flow measured by
//! [`super::extract::FlowFeatureAcc`] line up index for index; the flow classifier reads the
//! duplicate only once (`wirewatch_ml::flowclass::features::model_feature_indices`).
//!
//! Units are those of the published files: durations and inter-arrival times in microseconds,
//! rates per second, sizes in bytes of transport payload (not frame or IP length), header
//! lengths in bytes of transport header. Undefined rates (a flow of zero duration) are
//! [`UNDEFINED`] here; the published files say `Infinity` or `NaN` there, and the dataset
//! reader (`wirewatch_ml::flowclass::dataset`) maps those to the same value.
//!
//! `wirewatch_ml::flowclass::CicCsvWriter` writes flows in this exact layout.

/// Number of feature columns (the label excluded; the duplicated column counted twice).
pub const FEATURE_COUNT: usize = 78;

/// The features of one flow, in [`CIC_COLUMNS`] order.
pub type FeatureVector = [f64; FEATURE_COUNT];

/// The value of a feature that is undefined for a flow (a rate over zero duration). Chosen
/// outside the range of every rate so that a tree separates it with one split; the dataset
/// reader maps the published `Infinity`/`NaN` to it.
pub const UNDEFINED: f64 = -1.0;

/// What a column's numbers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A TCP/UDP port number.
    Port,
    /// Microseconds.
    Microseconds,
    /// A number of packets.
    Packets,
    /// Bytes.
    Bytes,
    /// Bytes squared (a variance of sizes).
    BytesSquared,
    /// Bytes per second.
    BytesPerSecond,
    /// Packets per second.
    PacketsPerSecond,
    /// A dimensionless ratio.
    Ratio,
    /// The class label (text, not a feature).
    Label,
}

/// One column of the published CSV layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CicColumn {
    /// The name exactly as in the published header (leading space included).
    pub name: &'static str,
    /// The name with surrounding spaces removed (what the reader matches).
    pub canonical: &'static str,
    /// What the numbers count.
    pub unit: Unit,
    /// What the column measures, as Wirewatch computes it.
    pub meaning: &'static str,
}

/// Every column of a CICIDS2017 `MachineLearningCVE` CSV, in order: 78 features and the label.
pub const CIC_COLUMNS: &[CicColumn] = &[
    CicColumn {
        name: " Destination Port",
        canonical: "Destination Port",
        unit: Unit::Port,
        meaning: "Port of the responder (the flow's destination).",
    },
    CicColumn {
        name: " Flow Duration",
        canonical: "Flow Duration",
        unit: Unit::Microseconds,
        meaning: "Time from the first to the last packet of the flow.",
    },
    CicColumn {
        name: " Total Fwd Packets",
        canonical: "Total Fwd Packets",
        unit: Unit::Packets,
        meaning: "Packets sent by the initiator.",
    },
    CicColumn {
        name: " Total Backward Packets",
        canonical: "Total Backward Packets",
        unit: Unit::Packets,
        meaning: "Packets sent by the responder.",
    },
    CicColumn {
        name: "Total Length of Fwd Packets",
        canonical: "Total Length of Fwd Packets",
        unit: Unit::Bytes,
        meaning: "Transport payload bytes sent by the initiator.",
    },
    CicColumn {
        name: " Total Length of Bwd Packets",
        canonical: "Total Length of Bwd Packets",
        unit: Unit::Bytes,
        meaning: "Transport payload bytes sent by the responder.",
    },
    CicColumn {
        name: " Fwd Packet Length Max",
        canonical: "Fwd Packet Length Max",
        unit: Unit::Bytes,
        meaning: "Largest forward payload.",
    },
    CicColumn {
        name: " Fwd Packet Length Min",
        canonical: "Fwd Packet Length Min",
        unit: Unit::Bytes,
        meaning: "Smallest forward payload.",
    },
    CicColumn {
        name: " Fwd Packet Length Mean",
        canonical: "Fwd Packet Length Mean",
        unit: Unit::Bytes,
        meaning: "Mean forward payload.",
    },
    CicColumn {
        name: " Fwd Packet Length Std",
        canonical: "Fwd Packet Length Std",
        unit: Unit::Bytes,
        meaning: "Sample standard deviation of forward payloads.",
    },
    CicColumn {
        name: "Bwd Packet Length Max",
        canonical: "Bwd Packet Length Max",
        unit: Unit::Bytes,
        meaning: "Largest backward payload.",
    },
    CicColumn {
        name: " Bwd Packet Length Min",
        canonical: "Bwd Packet Length Min",
        unit: Unit::Bytes,
        meaning: "Smallest backward payload.",
    },
    CicColumn {
        name: " Bwd Packet Length Mean",
        canonical: "Bwd Packet Length Mean",
        unit: Unit::Bytes,
        meaning: "Mean backward payload.",
    },
    CicColumn {
        name: " Bwd Packet Length Std",
        canonical: "Bwd Packet Length Std",
        unit: Unit::Bytes,
        meaning: "Sample standard deviation of backward payloads.",
    },
    CicColumn {
        name: "Flow Bytes/s",
        canonical: "Flow Bytes/s",
        unit: Unit::BytesPerSecond,
        meaning: "Payload bytes (both directions) per second of duration; undefined (-1) when the duration is 0.",
    },
    CicColumn {
        name: " Flow Packets/s",
        canonical: "Flow Packets/s",
        unit: Unit::PacketsPerSecond,
        meaning: "Packets (both directions) per second of duration; undefined (-1) when the duration is 0.",
    },
    CicColumn {
        name: " Flow IAT Mean",
        canonical: "Flow IAT Mean",
        unit: Unit::Microseconds,
        meaning: "Mean gap between consecutive packets of the flow.",
    },
    CicColumn {
        name: " Flow IAT Std",
        canonical: "Flow IAT Std",
        unit: Unit::Microseconds,
        meaning: "Sample standard deviation of the gaps between packets.",
    },
    CicColumn {
        name: " Flow IAT Max",
        canonical: "Flow IAT Max",
        unit: Unit::Microseconds,
        meaning: "Longest gap between packets.",
    },
    CicColumn {
        name: " Flow IAT Min",
        canonical: "Flow IAT Min",
        unit: Unit::Microseconds,
        meaning: "Shortest gap between packets.",
    },
    CicColumn {
        name: "Fwd IAT Total",
        canonical: "Fwd IAT Total",
        unit: Unit::Microseconds,
        meaning: "Sum of the gaps between forward packets.",
    },
    CicColumn {
        name: " Fwd IAT Mean",
        canonical: "Fwd IAT Mean",
        unit: Unit::Microseconds,
        meaning: "Mean gap between forward packets.",
    },
    CicColumn {
        name: " Fwd IAT Std",
        canonical: "Fwd IAT Std",
        unit: Unit::Microseconds,
        meaning: "Sample standard deviation of the gaps between forward packets.",
    },
    CicColumn {
        name: " Fwd IAT Max",
        canonical: "Fwd IAT Max",
        unit: Unit::Microseconds,
        meaning: "Longest gap between forward packets.",
    },
    CicColumn {
        name: " Fwd IAT Min",
        canonical: "Fwd IAT Min",
        unit: Unit::Microseconds,
        meaning: "Shortest gap between forward packets.",
    },
    CicColumn {
        name: "Bwd IAT Total",
        canonical: "Bwd IAT Total",
        unit: Unit::Microseconds,
        meaning: "Sum of the gaps between backward packets.",
    },
    CicColumn {
        name: " Bwd IAT Mean",
        canonical: "Bwd IAT Mean",
        unit: Unit::Microseconds,
        meaning: "Mean gap between backward packets.",
    },
    CicColumn {
        name: " Bwd IAT Std",
        canonical: "Bwd IAT Std",
        unit: Unit::Microseconds,
        meaning: "Sample standard deviation of the gaps between backward packets.",
    },
    CicColumn {
        name: " Bwd IAT Max",
        canonical: "Bwd IAT Max",
        unit: Unit::Microseconds,
        meaning: "Longest gap between backward packets.",
    },
    CicColumn {
        name: " Bwd IAT Min",
        canonical: "Bwd IAT Min",
        unit: Unit::Microseconds,
        meaning: "Shortest gap between backward packets.",
    },
    CicColumn {
        name: "Fwd PSH Flags",
        canonical: "Fwd PSH Flags",
        unit: Unit::Packets,
        meaning: "Forward packets with PSH set.",
    },
    CicColumn {
        name: " Bwd PSH Flags",
        canonical: "Bwd PSH Flags",
        unit: Unit::Packets,
        meaning: "Backward packets with PSH set.",
    },
    CicColumn {
        name: " Fwd URG Flags",
        canonical: "Fwd URG Flags",
        unit: Unit::Packets,
        meaning: "Forward packets with URG set.",
    },
    CicColumn {
        name: " Bwd URG Flags",
        canonical: "Bwd URG Flags",
        unit: Unit::Packets,
        meaning: "Backward packets with URG set.",
    },
    CicColumn {
        name: " Fwd Header Length",
        canonical: "Fwd Header Length",
        unit: Unit::Bytes,
        meaning: "Transport header bytes sent by the initiator.",
    },
    CicColumn {
        name: " Bwd Header Length",
        canonical: "Bwd Header Length",
        unit: Unit::Bytes,
        meaning: "Transport header bytes sent by the responder.",
    },
    CicColumn {
        name: "Fwd Packets/s",
        canonical: "Fwd Packets/s",
        unit: Unit::PacketsPerSecond,
        meaning: "Forward packets per second of duration (0 when the duration is 0).",
    },
    CicColumn {
        name: " Bwd Packets/s",
        canonical: "Bwd Packets/s",
        unit: Unit::PacketsPerSecond,
        meaning: "Backward packets per second of duration (0 when the duration is 0).",
    },
    CicColumn {
        name: " Min Packet Length",
        canonical: "Min Packet Length",
        unit: Unit::Bytes,
        meaning: "Smallest payload in either direction.",
    },
    CicColumn {
        name: " Max Packet Length",
        canonical: "Max Packet Length",
        unit: Unit::Bytes,
        meaning: "Largest payload in either direction.",
    },
    CicColumn {
        name: " Packet Length Mean",
        canonical: "Packet Length Mean",
        unit: Unit::Bytes,
        meaning: "Mean payload over both directions.",
    },
    CicColumn {
        name: " Packet Length Std",
        canonical: "Packet Length Std",
        unit: Unit::Bytes,
        meaning: "Sample standard deviation of payloads over both directions.",
    },
    CicColumn {
        name: " Packet Length Variance",
        canonical: "Packet Length Variance",
        unit: Unit::BytesSquared,
        meaning: "Sample variance of payloads over both directions.",
    },
    CicColumn {
        name: "FIN Flag Count",
        canonical: "FIN Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with FIN set.",
    },
    CicColumn {
        name: " SYN Flag Count",
        canonical: "SYN Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with SYN set.",
    },
    CicColumn {
        name: " RST Flag Count",
        canonical: "RST Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with RST set.",
    },
    CicColumn {
        name: " PSH Flag Count",
        canonical: "PSH Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with PSH set.",
    },
    CicColumn {
        name: " ACK Flag Count",
        canonical: "ACK Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with ACK set.",
    },
    CicColumn {
        name: " URG Flag Count",
        canonical: "URG Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with URG set.",
    },
    CicColumn {
        name: " CWE Flag Count",
        canonical: "CWE Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with CWR set (the published name misspells CWR).",
    },
    CicColumn {
        name: " ECE Flag Count",
        canonical: "ECE Flag Count",
        unit: Unit::Packets,
        meaning: "Packets with ECE set.",
    },
    CicColumn {
        name: " Down/Up Ratio",
        canonical: "Down/Up Ratio",
        unit: Unit::Ratio,
        meaning: "Backward packets divided by forward packets, rounded down (0 without forward packets).",
    },
    CicColumn {
        name: " Average Packet Size",
        canonical: "Average Packet Size",
        unit: Unit::Bytes,
        meaning: "Payload bytes divided by packets, both directions.",
    },
    CicColumn {
        name: " Avg Fwd Segment Size",
        canonical: "Avg Fwd Segment Size",
        unit: Unit::Bytes,
        meaning: "Forward payload bytes divided by forward packets.",
    },
    CicColumn {
        name: " Avg Bwd Segment Size",
        canonical: "Avg Bwd Segment Size",
        unit: Unit::Bytes,
        meaning: "Backward payload bytes divided by backward packets.",
    },
    CicColumn {
        name: " Fwd Header Length",
        canonical: "Fwd Header Length",
        unit: Unit::Bytes,
        meaning: "Second copy of Fwd Header Length, as published.",
    },
    CicColumn {
        name: "Fwd Avg Bytes/Bulk",
        canonical: "Fwd Avg Bytes/Bulk",
        unit: Unit::Bytes,
        meaning: "Forward bulk payload bytes divided by forward bulks, rounded down.",
    },
    CicColumn {
        name: " Fwd Avg Packets/Bulk",
        canonical: "Fwd Avg Packets/Bulk",
        unit: Unit::Packets,
        meaning: "Forward bulk packets divided by forward bulks, rounded down.",
    },
    CicColumn {
        name: " Fwd Avg Bulk Rate",
        canonical: "Fwd Avg Bulk Rate",
        unit: Unit::BytesPerSecond,
        meaning: "Forward bulk payload bytes per second of bulk time, rounded down.",
    },
    CicColumn {
        name: " Bwd Avg Bytes/Bulk",
        canonical: "Bwd Avg Bytes/Bulk",
        unit: Unit::Bytes,
        meaning: "Backward bulk payload bytes divided by backward bulks, rounded down.",
    },
    CicColumn {
        name: " Bwd Avg Packets/Bulk",
        canonical: "Bwd Avg Packets/Bulk",
        unit: Unit::Packets,
        meaning: "Backward bulk packets divided by backward bulks, rounded down.",
    },
    CicColumn {
        name: "Bwd Avg Bulk Rate",
        canonical: "Bwd Avg Bulk Rate",
        unit: Unit::BytesPerSecond,
        meaning: "Backward bulk payload bytes per second of bulk time, rounded down.",
    },
    CicColumn {
        name: "Subflow Fwd Packets",
        canonical: "Subflow Fwd Packets",
        unit: Unit::Packets,
        meaning: "Forward packets divided by subflows, rounded down.",
    },
    CicColumn {
        name: " Subflow Fwd Bytes",
        canonical: "Subflow Fwd Bytes",
        unit: Unit::Bytes,
        meaning: "Forward payload bytes divided by subflows, rounded down.",
    },
    CicColumn {
        name: " Subflow Bwd Packets",
        canonical: "Subflow Bwd Packets",
        unit: Unit::Packets,
        meaning: "Backward packets divided by subflows, rounded down.",
    },
    CicColumn {
        name: " Subflow Bwd Bytes",
        canonical: "Subflow Bwd Bytes",
        unit: Unit::Bytes,
        meaning: "Backward payload bytes divided by subflows, rounded down.",
    },
    CicColumn {
        name: "Init_Win_bytes_forward",
        canonical: "Init_Win_bytes_forward",
        unit: Unit::Bytes,
        meaning: "TCP window of the first forward packet (-1 when there is none).",
    },
    CicColumn {
        name: " Init_Win_bytes_backward",
        canonical: "Init_Win_bytes_backward",
        unit: Unit::Bytes,
        meaning: "TCP window of the first backward packet (-1 when there is none).",
    },
    CicColumn {
        name: " act_data_pkt_fwd",
        canonical: "act_data_pkt_fwd",
        unit: Unit::Packets,
        meaning: "Forward packets carrying at least one byte of payload.",
    },
    CicColumn {
        name: " min_seg_size_forward",
        canonical: "min_seg_size_forward",
        unit: Unit::Bytes,
        meaning: "Smallest forward transport header (the published name says segment).",
    },
    CicColumn {
        name: "Active Mean",
        canonical: "Active Mean",
        unit: Unit::Microseconds,
        meaning: "Mean length of the active periods ended by an idle gap.",
    },
    CicColumn {
        name: " Active Std",
        canonical: "Active Std",
        unit: Unit::Microseconds,
        meaning: "Sample standard deviation of those active periods.",
    },
    CicColumn {
        name: " Active Max",
        canonical: "Active Max",
        unit: Unit::Microseconds,
        meaning: "Longest of those active periods.",
    },
    CicColumn {
        name: " Active Min",
        canonical: "Active Min",
        unit: Unit::Microseconds,
        meaning: "Shortest of those active periods.",
    },
    CicColumn {
        name: "Idle Mean",
        canonical: "Idle Mean",
        unit: Unit::Microseconds,
        meaning: "Mean idle gap (a gap longer than the activity timeout).",
    },
    CicColumn {
        name: " Idle Std",
        canonical: "Idle Std",
        unit: Unit::Microseconds,
        meaning: "Sample standard deviation of the idle gaps.",
    },
    CicColumn {
        name: " Idle Max",
        canonical: "Idle Max",
        unit: Unit::Microseconds,
        meaning: "Longest idle gap.",
    },
    CicColumn {
        name: " Idle Min",
        canonical: "Idle Min",
        unit: Unit::Microseconds,
        meaning: "Shortest idle gap.",
    },
    CicColumn {
        name: " Label",
        canonical: "Label",
        unit: Unit::Label,
        meaning: "The flow's label (not a feature).",
    },
];

/// Column positions in [`CIC_COLUMNS`] (and indices into a [`FeatureVector`]).
pub mod col {
    /// `Destination Port`.
    pub const DESTINATION_PORT: usize = 0;
    /// `Flow Duration`.
    pub const FLOW_DURATION: usize = 1;
    /// `Total Fwd Packets`.
    pub const TOTAL_FWD_PACKETS: usize = 2;
    /// `Total Backward Packets`.
    pub const TOTAL_BWD_PACKETS: usize = 3;
    /// `Total Length of Fwd Packets`.
    pub const TOTAL_LEN_FWD: usize = 4;
    /// `Total Length of Bwd Packets`.
    pub const TOTAL_LEN_BWD: usize = 5;
    /// `Fwd Packet Length Max`.
    pub const FWD_PKT_LEN_MAX: usize = 6;
    /// `Fwd Packet Length Min`.
    pub const FWD_PKT_LEN_MIN: usize = 7;
    /// `Fwd Packet Length Mean`.
    pub const FWD_PKT_LEN_MEAN: usize = 8;
    /// `Fwd Packet Length Std`.
    pub const FWD_PKT_LEN_STD: usize = 9;
    /// `Bwd Packet Length Max`.
    pub const BWD_PKT_LEN_MAX: usize = 10;
    /// `Bwd Packet Length Min`.
    pub const BWD_PKT_LEN_MIN: usize = 11;
    /// `Bwd Packet Length Mean`.
    pub const BWD_PKT_LEN_MEAN: usize = 12;
    /// `Bwd Packet Length Std`.
    pub const BWD_PKT_LEN_STD: usize = 13;
    /// `Flow Bytes/s`.
    pub const FLOW_BYTES_PER_S: usize = 14;
    /// `Flow Packets/s`.
    pub const FLOW_PACKETS_PER_S: usize = 15;
    /// `Flow IAT Mean`.
    pub const FLOW_IAT_MEAN: usize = 16;
    /// `Flow IAT Std`.
    pub const FLOW_IAT_STD: usize = 17;
    /// `Flow IAT Max`.
    pub const FLOW_IAT_MAX: usize = 18;
    /// `Flow IAT Min`.
    pub const FLOW_IAT_MIN: usize = 19;
    /// `Fwd IAT Total`.
    pub const FWD_IAT_TOTAL: usize = 20;
    /// `Fwd IAT Mean`.
    pub const FWD_IAT_MEAN: usize = 21;
    /// `Fwd IAT Std`.
    pub const FWD_IAT_STD: usize = 22;
    /// `Fwd IAT Max`.
    pub const FWD_IAT_MAX: usize = 23;
    /// `Fwd IAT Min`.
    pub const FWD_IAT_MIN: usize = 24;
    /// `Bwd IAT Total`.
    pub const BWD_IAT_TOTAL: usize = 25;
    /// `Bwd IAT Mean`.
    pub const BWD_IAT_MEAN: usize = 26;
    /// `Bwd IAT Std`.
    pub const BWD_IAT_STD: usize = 27;
    /// `Bwd IAT Max`.
    pub const BWD_IAT_MAX: usize = 28;
    /// `Bwd IAT Min`.
    pub const BWD_IAT_MIN: usize = 29;
    /// `Fwd PSH Flags`.
    pub const FWD_PSH_FLAGS: usize = 30;
    /// `Bwd PSH Flags`.
    pub const BWD_PSH_FLAGS: usize = 31;
    /// `Fwd URG Flags`.
    pub const FWD_URG_FLAGS: usize = 32;
    /// `Bwd URG Flags`.
    pub const BWD_URG_FLAGS: usize = 33;
    /// `Fwd Header Length`.
    pub const FWD_HEADER_LEN: usize = 34;
    /// `Bwd Header Length`.
    pub const BWD_HEADER_LEN: usize = 35;
    /// `Fwd Packets/s`.
    pub const FWD_PACKETS_PER_S: usize = 36;
    /// `Bwd Packets/s`.
    pub const BWD_PACKETS_PER_S: usize = 37;
    /// `Min Packet Length`.
    pub const MIN_PKT_LEN: usize = 38;
    /// `Max Packet Length`.
    pub const MAX_PKT_LEN: usize = 39;
    /// `Packet Length Mean`.
    pub const PKT_LEN_MEAN: usize = 40;
    /// `Packet Length Std`.
    pub const PKT_LEN_STD: usize = 41;
    /// `Packet Length Variance`.
    pub const PKT_LEN_VAR: usize = 42;
    /// `FIN Flag Count`.
    pub const FIN_FLAG_COUNT: usize = 43;
    /// `SYN Flag Count`.
    pub const SYN_FLAG_COUNT: usize = 44;
    /// `RST Flag Count`.
    pub const RST_FLAG_COUNT: usize = 45;
    /// `PSH Flag Count`.
    pub const PSH_FLAG_COUNT: usize = 46;
    /// `ACK Flag Count`.
    pub const ACK_FLAG_COUNT: usize = 47;
    /// `URG Flag Count`.
    pub const URG_FLAG_COUNT: usize = 48;
    /// `CWE Flag Count`.
    pub const CWE_FLAG_COUNT: usize = 49;
    /// `ECE Flag Count`.
    pub const ECE_FLAG_COUNT: usize = 50;
    /// `Down/Up Ratio`.
    pub const DOWN_UP_RATIO: usize = 51;
    /// `Average Packet Size`.
    pub const AVG_PACKET_SIZE: usize = 52;
    /// `Avg Fwd Segment Size`.
    pub const AVG_FWD_SEGMENT_SIZE: usize = 53;
    /// `Avg Bwd Segment Size`.
    pub const AVG_BWD_SEGMENT_SIZE: usize = 54;
    /// `Fwd Header Length`.
    pub const FWD_HEADER_LEN_DUP: usize = 55;
    /// `Fwd Avg Bytes/Bulk`.
    pub const FWD_AVG_BYTES_BULK: usize = 56;
    /// `Fwd Avg Packets/Bulk`.
    pub const FWD_AVG_PACKETS_BULK: usize = 57;
    /// `Fwd Avg Bulk Rate`.
    pub const FWD_AVG_BULK_RATE: usize = 58;
    /// `Bwd Avg Bytes/Bulk`.
    pub const BWD_AVG_BYTES_BULK: usize = 59;
    /// `Bwd Avg Packets/Bulk`.
    pub const BWD_AVG_PACKETS_BULK: usize = 60;
    /// `Bwd Avg Bulk Rate`.
    pub const BWD_AVG_BULK_RATE: usize = 61;
    /// `Subflow Fwd Packets`.
    pub const SUBFLOW_FWD_PACKETS: usize = 62;
    /// `Subflow Fwd Bytes`.
    pub const SUBFLOW_FWD_BYTES: usize = 63;
    /// `Subflow Bwd Packets`.
    pub const SUBFLOW_BWD_PACKETS: usize = 64;
    /// `Subflow Bwd Bytes`.
    pub const SUBFLOW_BWD_BYTES: usize = 65;
    /// `Init_Win_bytes_forward`.
    pub const INIT_WIN_BYTES_FWD: usize = 66;
    /// `Init_Win_bytes_backward`.
    pub const INIT_WIN_BYTES_BWD: usize = 67;
    /// `act_data_pkt_fwd`.
    pub const ACT_DATA_PKT_FWD: usize = 68;
    /// `min_seg_size_forward`.
    pub const MIN_SEG_SIZE_FWD: usize = 69;
    /// `Active Mean`.
    pub const ACTIVE_MEAN: usize = 70;
    /// `Active Std`.
    pub const ACTIVE_STD: usize = 71;
    /// `Active Max`.
    pub const ACTIVE_MAX: usize = 72;
    /// `Active Min`.
    pub const ACTIVE_MIN: usize = 73;
    /// `Idle Mean`.
    pub const IDLE_MEAN: usize = 74;
    /// `Idle Std`.
    pub const IDLE_STD: usize = 75;
    /// `Idle Max`.
    pub const IDLE_MAX: usize = 76;
    /// `Idle Min`.
    pub const IDLE_MIN: usize = 77;
    /// `Label`.
    pub const LABEL: usize = 78;
}
const _: () = assert!(CIC_COLUMNS.len() == FEATURE_COUNT + 1);
const _: () = assert!(col::LABEL == FEATURE_COUNT);

/// The published header line (no line ending): names joined by commas, spaces kept.
pub fn header_line() -> String {
    let names: Vec<&str> = CIC_COLUMNS.iter().map(|c| c.name).collect();
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_published_one() {
        let header = header_line();
        assert!(header.starts_with(" Destination Port, Flow Duration, Total Fwd Packets,"));
        assert!(header.ends_with(" Idle Std, Idle Max, Idle Min, Label"));
        assert_eq!(header.matches("Fwd Header Length").count(), 2);
        assert_eq!(header.split(',').count(), 79);
        for c in CIC_COLUMNS {
            assert_eq!(c.name.trim(), c.canonical);
        }
    }
}
