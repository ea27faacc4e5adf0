//! Interval metrics.
