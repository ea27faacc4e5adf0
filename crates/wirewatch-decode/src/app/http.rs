//! http payload decoder (not yet implemented).
