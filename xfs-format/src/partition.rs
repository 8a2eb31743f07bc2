//! Partition tables (temporary stub; the real module is being written on a branch).
use crate::error::Result;
use crate::source::ByteSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    None,
    Mbr,
    Gpt,
}

#[derive(Debug, Clone)]
pub struct Partition {
    pub index: u32,
    pub start: u64,
    pub len: u64,
    pub scheme: Scheme,
    pub type_desc: String,
    pub name: Option<String>,
    pub has_xfs: bool,
}

#[derive(Debug, Clone)]
pub struct PartitionTable {
    pub scheme: Scheme,
    pub partitions: Vec<Partition>,
}

pub fn list_partitions<S: ByteSource + ?Sized>(_src: &S) -> Result<PartitionTable> {
    Ok(PartitionTable {
        scheme: Scheme::None,
        partitions: Vec::new(),
    })
}
