-- Schema version 7: CICFlowMeter-style features of a flow (when the flow table computed
-- them), as little-endian f32 values in wirewatch_ml::flowclass::CIC_COLUMNS order; NULL
-- otherwise. They make `wirewatch export --format cicflowmeter` possible.
ALTER TABLE flows ADD COLUMN features BLOB;
