//! Wirewatch wiring.
