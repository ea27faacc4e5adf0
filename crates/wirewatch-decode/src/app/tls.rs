//! tls payload decoder (not yet implemented).
