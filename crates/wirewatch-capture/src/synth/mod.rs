//! Synthetic traffic: packet builders and the seeded scenario generator.
