//! Live monitoring: source threads (live capture, replay, demo) feeding one engine thread
//! through a bounded queue, and the control API to steer them at run time.

pub mod batch;
pub mod monitor;
pub mod source;

pub use monitor::{ControlError, Monitor, MonitorStatus, SourceSpec};
pub use source::Speed;
