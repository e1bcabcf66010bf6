//! Grouping: which issue an event belongs to. Pure (no I/O).
