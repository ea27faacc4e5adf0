//! dns payload decoder (not yet implemented).
