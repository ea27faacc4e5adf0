//! Flow table.
