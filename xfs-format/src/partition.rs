//! Partition tables (placeholder).
