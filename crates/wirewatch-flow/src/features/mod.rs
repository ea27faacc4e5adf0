//! CICFlowMeter-style flow features, computed by the flow table when
//! [`FlowConfig::flow_features`](crate::FlowConfig::flow_features) is on.
//!
//! - [`columns`]: the 78 published CICIDS2017 feature columns (names as published, units,
//!   meanings), the [`FeatureVector`] they fill and their indices ([`col`]);
//! - [`extract`]: [`FlowFeatureAcc`], fed packet by packet, yields those features when a flow
//!   ends (deliberate differences from CICFlowMeter are listed there).
//!
//! The flow classifier (`wirewatch_ml::flowclass`) reads these types and re-exports them under
//! the same names; this crate does not depend on it.

pub mod columns;
pub mod extract;

pub use columns::{CIC_COLUMNS, CicColumn, FEATURE_COUNT, FeatureVector, UNDEFINED, Unit, col};
pub use extract::{FlowFeatureAcc, PacketObs, TcpObs};
