//! Partition tables: MBR (with logical partitions in extended partitions) and GPT.
//!
//! [`list_partitions`] looks at the start of a whole-disk image and lists its partitions, each
//! with its byte range and whether an XFS superblock magic sits at its first byte, so that a
//! caller can pick one and open it through a [`Window`](xfs_format::Window).
//!
//! Not an XFS structure, so it lives with the CLI rather than in xfs-format; it reads through
//! xfs-format's [`ByteSource`].
//!
//! Everything odd about a table (a bad GPT CRC, a looping EBR chain, a partition that runs past
//! the end of the image) is data in [`PartitionTable::notes`] and the [`GptInfo`] flags; only a
//! failing read of the first sector is an error. Every listed partition lies inside the source:
//! one that starts past its end is left out and one that ends past it is clipped, with a note.
//!
//! Assumptions: MBR addresses count 512-byte sectors; a GPT is looked for with 512-byte and then
//! 4096-byte logical sectors (the sector that holds the "EFI PART" header decides).

use std::collections::HashSet;

use serde::Serialize;

use xfs_format::bytes::{le_u32, le_u64};
use xfs_format::sb::XFS_SB_MAGIC;
use xfs_format::{ByteSource, Error, Result};

/// The sector MBR addresses count in.
const MBR_SECTOR: u64 = 512;
const MBR_SECTOR_LEN: usize = 512;
/// Byte offset of the four primary entries in an MBR or EBR.
const MBR_TABLE: usize = 446;
const MBR_TABLE_END: usize = 510;
const MBR_ENTRY_LEN: usize = 16;
const MBR_SIGNATURE: [u8; 2] = [0x55, 0xAA];
/// Type byte of a GPT protective MBR entry.
const MBR_TYPE_GPT: u8 = 0xEE;
/// Most EBRs followed in one image, over all extended partitions.
pub const MAX_EBR_CHAIN: usize = 128;

const GPT_SIGNATURE: &[u8; 8] = b"EFI PART";
/// Logical sector sizes a GPT is looked for with, in this order.
const GPT_SECTOR_SIZES: [u64; 2] = [512, 4096];
/// Size of the GPT header fields this module knows (UEFI 2.x); `header_size` may be larger.
const GPT_HEADER_MIN: usize = 92;
/// Most bytes of a GPT entry array read, whatever the header claims.
pub const MAX_GPT_ARRAY: u64 = 1 << 20;
/// Accepted GPT entry sizes (UEFI requires 128 * 2^n).
const GPT_ENTRY_SIZES: std::ops::RangeInclusive<u32> = 128..=4096;
const GPT_ENTRY_MIN: usize = 128;

/// The XFS superblock magic, as it appears at byte 0 of a filesystem.
const XFS_MAGIC: &[u8; 4] = &XFS_SB_MAGIC.to_be_bytes();

/// A kind of partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// DOS / MBR, with logical partitions in extended partitions.
    Mbr,
    /// GUID partition table.
    Gpt,
}

/// One partition of a whole-disk image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Number as Linux gives it (sda1, sda2, ...): the MBR slot 1-4, 5 and up for logical
    /// partitions in chain order, or the GPT entry position + 1.
    pub index: u32,
    /// First byte in the image.
    pub start: u64,
    /// Length in bytes (clipped to the end of the image, see [`PartitionTable::notes`]).
    pub len: u64,
    /// Table the partition comes from.
    pub scheme: Scheme,
    /// The type: "0x83 (Linux)" for MBR, the type GUID for GPT, with a name where known.
    pub type_desc: String,
    /// The GPT partition name (UTF-16LE on disk); `None` for MBR or an empty name.
    pub name: Option<String>,
    /// The first four bytes of the partition are the XFS superblock magic `XFSB`.
    pub has_xfs: bool,
}

/// What the GPT header said about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptInfo {
    /// Logical sector size the header was found with (512 or 4096).
    pub sector_size: u32,
    /// Byte offset of the header used: LBA 1, or the last sector for the backup header.
    pub header_offset: u64,
    /// The primary header was missing and the backup header at the end of the image was used.
    pub from_backup: bool,
    /// Disk GUID in the usual text form.
    pub disk_guid: String,
    /// The header CRC32 matches (false too when `header_size` is out of range).
    pub header_crc_ok: bool,
    /// The entry array CRC32 matches (false too when the array could not be read whole).
    pub entries_crc_ok: bool,
}

/// The partition table of an image, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartitionTable {
    /// The table found: `None` for an image without one (a bare filesystem, or zeros).
    pub scheme: Option<Scheme>,
    /// The partitions in table order (primaries, then logicals; or GPT entry order).
    pub partitions: Vec<Partition>,
    /// The GPT header's own state, when `scheme` is GPT.
    pub gpt: Option<GptInfo>,
    /// Problems met while reading the table, in plain words.
    pub notes: Vec<String>,
}

impl PartitionTable {
    /// The partition numbered `index`, as given to `--partition`.
    pub fn get(&self, index: u32) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.index == index)
    }
}

/// Finds the partition table at the start of `src` and lists its partitions.
///
/// An image that holds no table (too short, no 0x55AA signature, boot-indicator bytes that are
/// not 0x00/0x80, or an XFS superblock at byte 0) yields `scheme: None` and no partitions. A
/// protective MBR (type 0xEE) leads to the GPT; if no GPT header is found (neither at LBA 1 nor in
/// the last sector) the MBR entries are listed instead, with a note.
///
/// Errors only when the first sector cannot be read for a reason other than the image being
/// too short ([`Error::Io`]); later read failures end that part of the scan with a note.
pub fn list_partitions<S: ByteSource + ?Sized>(src: &S) -> Result<PartitionTable> {
    let mut table = PartitionTable::default();
    let sector0 = match src.read_at(0, MBR_SECTOR_LEN) {
        Ok(s) => s,
        Err(Error::Truncated { .. }) => return Ok(table),
        Err(e) => return Err(e),
    };
    if sector0.starts_with(XFS_MAGIC) || !has_mbr_signature(&sector0) {
        return Ok(table);
    }
    let entries = mbr_entries(&sector0);
    // A boot sector of a filesystem (FAT, NTFS) also ends in 0x55AA; its bytes at 446 are code,
    // which rarely has only 0x00 / 0x80 where the boot indicators of a table are.
    if entries.len() != 4 || entries.iter().any(|e| e.status & 0x7f != 0) {
        return Ok(table);
    }
    drop(sector0);

    if entries.iter().any(|e| e.kind == MBR_TYPE_GPT) {
        if read_gpt(src, &mut table) {
            return Ok(table);
        }
        table
            .notes
            .push("protective MBR (type 0xee) but no GPT header found; listing the MBR".into());
    }
    read_mbr(src, &entries, &mut table);
    Ok(table)
}

// ---------------------------------------------------------------------------------------------
// Little helpers

fn has_mbr_signature(sector: &[u8]) -> bool {
    sector.get(MBR_TABLE_END..MBR_SECTOR_LEN) == Some(&MBR_SIGNATURE[..])
}

/// Adds a partition, leaving it out when it is empty or starts past the end of `src`, and
/// clipping it to the end of `src`.
fn add_partition<S: ByteSource + ?Sized>(src: &S, table: &mut PartitionTable, mut part: Partition) {
    let size = src.size();
    let index = part.index;
    if part.len == 0 {
        table
            .notes
            .push(format!("partition {index} has length 0; left out"));
        return;
    }
    if part.start >= size {
        table.notes.push(format!(
            "partition {index} starts at byte {}, past the end of the image ({size} bytes); left out",
            part.start
        ));
        return;
    }
    let avail = size.saturating_sub(part.start);
    if part.len > avail {
        table.notes.push(format!(
            "partition {index} ends past the end of the image: {} bytes claimed, {avail} present",
            part.len
        ));
        part.len = avail;
    }
    part.has_xfs = src
        .read_at(part.start, XFS_MAGIC.len())
        .is_ok_and(|b| b.as_ref() == XFS_MAGIC);
    table.partitions.push(part);
}

// ---------------------------------------------------------------------------------------------
// MBR

/// One 16-byte MBR / EBR entry.
#[derive(Debug, Clone, Copy)]
struct MbrEntry {
    status: u8,
    kind: u8,
    start_lba: u32,
    sectors: u32,
}

/// The four entries of an MBR or EBR sector (fewer only if the sector is short).
fn mbr_entries(sector: &[u8]) -> Vec<MbrEntry> {
    sector
        .get(MBR_TABLE..MBR_TABLE_END)
        .unwrap_or_default()
        .chunks_exact(MBR_ENTRY_LEN)
        .map(|e| MbrEntry {
            status: e.first().copied().unwrap_or(0),
            kind: e.get(4).copied().unwrap_or(0),
            start_lba: le_u32(e, 8).unwrap_or(0),
            sectors: le_u32(e, 12).unwrap_or(0),
        })
        .collect()
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

fn mbr_type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0x01 => "FAT12",
        0x04 | 0x06 | 0x0e => "FAT16",
        0x05 => "Extended",
        0x07 => "HPFS/NTFS/exFAT",
        0x0b | 0x0c => "W95 FAT32",
        0x0f => "W95 Extended (LBA)",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x85 => "Linux extended",
        0x8e => "Linux LVM",
        0xa5 => "FreeBSD",
        0xee => "GPT protective",
        0xef => "EFI System",
        0xfd => "Linux raid autodetect",
        _ => return None,
    })
}

fn mbr_type_desc(kind: u8) -> String {
    match mbr_type_name(kind) {
        Some(name) => format!("{kind:#04x} ({name})"),
        None => format!("{kind:#04x}"),
    }
}

fn mbr_partition(index: u32, kind: u8, start_lba: u64, sectors: u32) -> Option<Partition> {
    Some(Partition {
        index,
        start: start_lba.checked_mul(MBR_SECTOR)?,
        len: u64::from(sectors).checked_mul(MBR_SECTOR)?,
        scheme: Scheme::Mbr,
        type_desc: mbr_type_desc(kind),
        name: None,
        has_xfs: false,
    })
}

fn read_mbr<S: ByteSource + ?Sized>(src: &S, primaries: &[MbrEntry], table: &mut PartitionTable) {
    table.scheme = Some(Scheme::Mbr);
    for (index, e) in (1u32..).zip(primaries) {
        if e.kind == 0 {
            continue;
        }
        if let Some(p) = mbr_partition(index, e.kind, e.start_lba.into(), e.sectors) {
            add_partition(src, table, p);
        }
    }
    // Logical partitions are numbered from 5 on, over all extended partitions in slot order.
    let mut next_index = 5u32;
    let mut budget = MAX_EBR_CHAIN;
    let mut visited = HashSet::new();
    for e in primaries {
        if is_extended(e.kind) && e.sectors != 0 {
            follow_ebr_chain(
                src,
                table,
                e.start_lba.into(),
                &mut next_index,
                &mut budget,
                &mut visited,
            );
        }
    }
}

/// Walks the EBRs of the extended partition starting at sector `ext_lba`. In each EBR the
/// non-extended entries are logical partitions (relative to that EBR) and the first extended
/// entry links to the next EBR (relative to the extended partition).
fn follow_ebr_chain<S: ByteSource + ?Sized>(
    src: &S,
    table: &mut PartitionTable,
    ext_lba: u64,
    next_index: &mut u32,
    budget: &mut usize,
    visited: &mut HashSet<u64>,
) {
    let mut ebr_lba = ext_lba;
    loop {
        if !visited.insert(ebr_lba) {
            table
                .notes
                .push(format!("EBR chain loops back to sector {ebr_lba}; stopped"));
            return;
        }
        let Some(left) = budget.checked_sub(1) else {
            table.notes.push(format!(
                "more than {MAX_EBR_CHAIN} EBRs; the rest of the chain is ignored"
            ));
            return;
        };
        *budget = left;
        let Some(off) = ebr_lba.checked_mul(MBR_SECTOR) else {
            table
                .notes
                .push(format!("EBR sector {ebr_lba} is out of range"));
            return;
        };
        let sector = match src.read_at(off, MBR_SECTOR_LEN) {
            Ok(s) => s,
            Err(e) => {
                table
                    .notes
                    .push(format!("cannot read the EBR at byte {off}: {e}"));
                return;
            }
        };
        if !has_mbr_signature(&sector) {
            table.notes.push(format!(
                "no 0x55AA signature in the EBR at byte {off}; chain ends"
            ));
            return;
        }
        let mut link = None;
        for e in mbr_entries(&sector) {
            if e.kind == 0 || e.sectors == 0 {
                continue;
            }
            if is_extended(e.kind) {
                link = link.or(Some(e.start_lba));
                continue;
            }
            let index = *next_index;
            *next_index = next_index.saturating_add(1);
            match ebr_lba
                .checked_add(e.start_lba.into())
                .and_then(|lba| mbr_partition(index, e.kind, lba, e.sectors))
            {
                Some(p) => add_partition(src, table, p),
                None => table.notes.push(format!(
                    "logical partition {index} is out of range; left out"
                )),
            }
        }
        let Some(rel) = link else { return };
        let Some(next) = ext_lba.checked_add(rel.into()) else {
            table.notes.push(format!(
                "EBR link at byte {off} is out of range; chain ends"
            ));
            return;
        };
        ebr_lba = next;
    }
}

// ---------------------------------------------------------------------------------------------
// GPT

/// GPT partition type GUIDs with names, in text form.
const GPT_TYPES: &[(&str, &str)] = &[
    ("0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"),
    ("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"),
    (
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
        "Microsoft basic data",
    ),
    ("E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"),
    ("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"),
    ("E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"),
    ("A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"),
    (
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
        "Linux root (x86-64)",
    ),
    ("933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home"),
    ("21686148-6449-6E6F-744E-656564454649", "BIOS boot"),
];

/// A GUID in its text form: the first three fields are little-endian on disk.
fn guid_string(raw: &[u8]) -> String {
    let Ok(b) = <[u8; 16]>::try_from(raw) else {
        return String::new();
    };
    let [a0, a1, a2, a3, b0, b1, c0, c1, d0, d1, e0, e1, e2, e3, e4, e5] = b;
    format!(
        "{a3:02X}{a2:02X}{a1:02X}{a0:02X}-{b1:02X}{b0:02X}-{c1:02X}{c0:02X}-{d0:02X}{d1:02X}-\
         {e0:02X}{e1:02X}{e2:02X}{e3:02X}{e4:02X}{e5:02X}"
    )
}

fn gpt_type_desc(guid: &str) -> String {
    match GPT_TYPES.iter().find(|(g, _)| *g == guid) {
        Some((_, name)) => format!("{guid} ({name})"),
        None => guid.to_owned(),
    }
}

/// Decodes a NUL-terminated UTF-16LE name; bad surrogates become U+FFFD.
fn decode_name(raw: &[u8]) -> Option<String> {
    let units = raw
        .chunks_exact(2)
        .map(|c| c.try_into().map_or(0, u16::from_le_bytes))
        .take_while(|&u| u != 0);
    let name: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Looks for a GPT header at LBA 1 (512- then 4096-byte sectors), then in the last sector of
/// the image. Lists its partitions and returns true if one was found.
fn read_gpt<S: ByteSource + ?Sized>(src: &S, table: &mut PartitionTable) -> bool {
    for ss in GPT_SECTOR_SIZES {
        if let Some(hdr) = read_gpt_header(src, ss, ss) {
            parse_gpt(src, table, &hdr, ss, ss, false);
            return true;
        }
    }
    let size = src.size();
    for ss in GPT_SECTOR_SIZES {
        let last = size
            .checked_div(ss)
            .and_then(|n| n.checked_sub(1))
            .and_then(|lba| lba.checked_mul(ss));
        let Some(off) = last.filter(|&off| off > ss) else {
            continue;
        };
        if let Some(hdr) = read_gpt_header(src, off, ss) {
            table.notes.push(format!(
                "primary GPT header missing; using the backup header at byte {off}"
            ));
            parse_gpt(src, table, &hdr, off, ss, true);
            return true;
        }
    }
    false
}

/// The sector at `off` if it starts with the GPT signature.
fn read_gpt_header<S: ByteSource + ?Sized>(src: &S, off: u64, ss: u64) -> Option<Vec<u8>> {
    let len = usize::try_from(ss).ok()?;
    let sector = src.read_at(off, len).ok()?;
    sector
        .starts_with(GPT_SIGNATURE)
        .then(|| sector.into_owned())
}

/// CRC-32 (ISO-HDLC, as zlib) of `buf` with the four bytes at `crc_off` taken as zero.
fn crc32_zeroed(buf: &[u8], crc_off: usize) -> Option<u32> {
    let head = buf.get(..crc_off)?;
    let tail = buf.get(crc_off.checked_add(4)?..)?;
    let mut h = crc32fast::Hasher::new();
    h.update(head);
    h.update(&[0; 4]);
    h.update(tail);
    Some(h.finalize())
}

fn parse_gpt<S: ByteSource + ?Sized>(
    src: &S,
    table: &mut PartitionTable,
    hdr: &[u8],
    hdr_off: u64,
    ss: u64,
    from_backup: bool,
) {
    table.scheme = Some(Scheme::Gpt);
    let header_size = le_u32(hdr, 12).and_then(|n| usize::try_from(n).ok());
    let stored_crc = le_u32(hdr, 16);
    let header_crc_ok = header_size
        .filter(|&n| n >= GPT_HEADER_MIN)
        .and_then(|n| hdr.get(..n))
        .and_then(|h| crc32_zeroed(h, 16))
        .is_some_and(|c| Some(c) == stored_crc);
    if !header_crc_ok {
        table
            .notes
            .push(format!("GPT header CRC mismatch at byte {hdr_off}"));
    }
    let mut info = GptInfo {
        sector_size: u32::try_from(ss).unwrap_or(0),
        header_offset: hdr_off,
        from_backup,
        disk_guid: guid_string(hdr.get(56..72).unwrap_or_default()),
        header_crc_ok,
        entries_crc_ok: false,
    };
    let entries_lba = le_u64(hdr, 72).unwrap_or(0);
    let count = le_u32(hdr, 80).unwrap_or(0);
    let entry_size = le_u32(hdr, 84).unwrap_or(0);
    let stored_array_crc = le_u32(hdr, 88);

    let Some(esz) = Some(entry_size)
        .filter(|n| GPT_ENTRY_SIZES.contains(n))
        .and_then(|n| usize::try_from(n).ok())
    else {
        table.notes.push(format!(
            "GPT entry size {entry_size} is outside 128..=4096; entries not read"
        ));
        table.gpt = Some(info);
        return;
    };
    let Some(array_off) = entries_lba.checked_mul(ss) else {
        table
            .notes
            .push(format!("GPT entry array LBA {entries_lba} is out of range"));
        table.gpt = Some(info);
        return;
    };
    let claimed = u64::from(count).saturating_mul(u64::from(entry_size));
    let mut to_read = claimed;
    if to_read > MAX_GPT_ARRAY {
        table.notes.push(format!(
            "GPT claims {count} entries of {entry_size} bytes; only the first {MAX_GPT_ARRAY} bytes are read"
        ));
        to_read = MAX_GPT_ARRAY;
    }
    let avail = src.size().saturating_sub(array_off);
    if to_read > avail {
        table.notes.push(format!(
            "GPT entry array at byte {array_off} runs past the end of the image"
        ));
        to_read = avail;
    }
    // to_read <= MAX_GPT_ARRAY, so it fits in usize.
    let array = match usize::try_from(to_read).map(|len| src.read_at(array_off, len)) {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            table
                .notes
                .push(format!("cannot read the GPT entry array: {e}"));
            table.gpt = Some(info);
            return;
        }
        Err(_) => {
            table.gpt = Some(info);
            return;
        }
    };
    if to_read == claimed {
        let mut h = crc32fast::Hasher::new();
        h.update(&array);
        info.entries_crc_ok = Some(h.finalize()) == stored_array_crc;
        if !info.entries_crc_ok {
            table.notes.push("GPT entry array CRC mismatch".into());
        }
    }
    table.gpt = Some(info);

    for (index, entry) in (1u32..).zip(array.chunks_exact(esz)) {
        let type_raw = entry.get(..16).unwrap_or_default();
        if type_raw.iter().all(|&b| b == 0) {
            continue;
        }
        let first = le_u64(entry, 32).unwrap_or(0);
        let last = le_u64(entry, 40).unwrap_or(0);
        let range = last
            .checked_sub(first)
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(ss))
            .zip(first.checked_mul(ss));
        let Some((len, start)) = range else {
            table.notes.push(format!(
                "GPT entry {index} has a bad range (LBA {first}..={last}); left out"
            ));
            continue;
        };
        let part = Partition {
            index,
            start,
            len,
            scheme: Scheme::Gpt,
            type_desc: gpt_type_desc(&guid_string(type_raw)),
            name: decode_name(entry.get(56..GPT_ENTRY_MIN).unwrap_or_default()),
            has_xfs: false,
        };
        add_partition(src, table, part);
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use xfs_format::SliceSource;

    const LINUX_FS: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
    const EFI: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

    /// Writes MBR/EBR entry `slot` of the sector at byte `sector`.
    fn put_entry(img: &mut [u8], sector: usize, slot: usize, kind: u8, start: u32, len: u32) {
        let e = sector + MBR_TABLE + slot * MBR_ENTRY_LEN;
        img[e + 4] = kind;
        img[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        img[e + 12..e + 16].copy_from_slice(&len.to_le_bytes());
        img[sector + 510] = 0x55;
        img[sector + 511] = 0xAA;
    }

    fn guid_bytes(text: &str) -> [u8; 16] {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        b[0..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
        b
    }

    /// A GPT entry to write: type GUID, first and last LBA, name.
    struct GptPart<'a>(&'a str, u64, u64, &'a str);

    /// Writes a GPT header at LBA `hdr_lba` with its array at `array_lba`, with right CRCs.
    fn put_gpt(img: &mut [u8], ss: usize, hdr_lba: u64, array_lba: u64, parts: &[GptPart]) {
        let count = 128u32;
        let esz = 128usize;
        let mut array = vec![0u8; count as usize * esz];
        for (i, GptPart(kind, first, last, name)) in parts.iter().enumerate() {
            let e = &mut array[i * esz..(i + 1) * esz];
            e[..16].copy_from_slice(&guid_bytes(kind));
            e[16] = i as u8 + 1; // unique GUID
            e[32..40].copy_from_slice(&first.to_le_bytes());
            e[40..48].copy_from_slice(&last.to_le_bytes());
            for (j, u) in name.encode_utf16().enumerate() {
                e[56 + 2 * j..58 + 2 * j].copy_from_slice(&u.to_le_bytes());
            }
        }
        let a = array_lba as usize * ss;
        img[a..a + array.len()].copy_from_slice(&array);
        let h = hdr_lba as usize * ss;
        let hdr = &mut img[h..h + 92];
        hdr[..8].copy_from_slice(GPT_SIGNATURE);
        hdr[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        hdr[12..16].copy_from_slice(&92u32.to_le_bytes());
        hdr[24..32].copy_from_slice(&hdr_lba.to_le_bytes());
        hdr[56..72].copy_from_slice(&guid_bytes("01234567-89AB-CDEF-0123-456789ABCDEF"));
        hdr[72..80].copy_from_slice(&array_lba.to_le_bytes());
        hdr[80..84].copy_from_slice(&count.to_le_bytes());
        hdr[84..88].copy_from_slice(&(esz as u32).to_le_bytes());
        hdr[88..92].copy_from_slice(&crc32fast::hash(&array).to_le_bytes());
        fix_header_crc(img, h);
    }

    fn fix_header_crc(img: &mut [u8], h: usize) {
        let size = u32::from_le_bytes(img[h + 12..h + 16].try_into().unwrap()) as usize;
        img[h + 16..h + 20].fill(0);
        let crc = crc32fast::hash(&img[h..h + size]);
        img[h + 16..h + 20].copy_from_slice(&crc.to_le_bytes());
    }

    fn protective_mbr(img: &mut [u8]) {
        let sectors = u32::try_from(img.len() / 512 - 1).unwrap_or(u32::MAX);
        put_entry(img, 0, 0, 0xEE, 1, sectors);
    }

    /// A 1 MiB GPT image (512-byte sectors) with two partitions, XFS in the second.
    fn gpt_image() -> Vec<u8> {
        let mut img = vec![0u8; 1 << 20];
        protective_mbr(&mut img);
        let parts = [
            GptPart(EFI, 34, 1023, "esp"),
            GptPart(LINUX_FS, 1024, 2047, "dätä"),
        ];
        put_gpt(&mut img, 512, 1, 2, &parts);
        img[1024 * 512..1024 * 512 + 4].copy_from_slice(b"XFSB");
        img
    }

    /// A 1 MiB MBR image: a Linux primary, an extended partition with two logicals.
    fn mbr_image() -> Vec<u8> {
        let mut img = vec![0u8; 1 << 20];
        put_entry(&mut img, 0, 0, 0x83, 64, 64);
        put_entry(&mut img, 0, 2, 0x05, 256, 1024);
        // EBR 1 at sector 256: logical at 256+8, link to EBR 2 at 256+512.
        put_entry(&mut img, 256 * 512, 0, 0x83, 8, 100);
        put_entry(&mut img, 256 * 512, 1, 0x05, 512, 512);
        // EBR 2 at sector 768: logical at 768+16, end of chain.
        put_entry(&mut img, 768 * 512, 0, 0x8e, 16, 200);
        img[784 * 512..784 * 512 + 4].copy_from_slice(b"XFSB");
        img
    }

    /// The table of `img`, checked for what must hold of every listing: partitions non-empty,
    /// inside the image, numbered once, of the table's scheme.
    fn listed(img: Vec<u8>) -> PartitionTable {
        let src = SliceSource(img);
        let t = list_partitions(&src).unwrap();
        let size = src.size();
        let mut seen = HashSet::new();
        for p in &t.partitions {
            assert!(p.len > 0, "{p:?}");
            assert!(
                p.start.checked_add(p.len).is_some_and(|e| e <= size),
                "{p:?}"
            );
            assert!(seen.insert(p.index), "duplicate index {}", p.index);
            assert_eq!(Some(p.scheme), t.scheme);
        }
        assert_eq!(t.gpt.is_some(), t.scheme == Some(Scheme::Gpt));
        t
    }

    #[test]
    fn mbr_with_logicals() {
        let t = listed(mbr_image());
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert!(t.notes.is_empty(), "{:?}", t.notes);
        let got: Vec<_> = t
            .partitions
            .iter()
            .map(|p| {
                (
                    p.index,
                    p.start / 512,
                    p.len / 512,
                    p.type_desc.as_str(),
                    p.has_xfs,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, 64, 64, "0x83 (Linux)", false),
                (3, 256, 1024, "0x05 (Extended)", false),
                (5, 264, 100, "0x83 (Linux)", false),
                (6, 784, 200, "0x8e (Linux LVM)", true),
            ]
        );
        assert_eq!(t.get(6).unwrap().start, 784 * 512);
        assert!(t.get(2).is_none());
    }

    #[test]
    fn cyclic_ebr_chain_stops() {
        let mut img = mbr_image();
        // EBR 2 links back to EBR 1 (relative 0 = the extended partition start).
        put_entry(&mut img, 768 * 512, 1, 0x05, 0, 512);
        let t = listed(img);
        assert_eq!(t.partitions.len(), 4);
        assert!(t.notes.iter().any(|n| n.contains("loops")), "{:?}", t.notes);

        // A self-link on the first EBR.
        let mut img = mbr_image();
        put_entry(&mut img, 256 * 512, 1, 0x05, 0, 512);
        let t = listed(img);
        assert_eq!(t.partitions.len(), 3);
        assert!(t.notes.iter().any(|n| n.contains("loops")));
    }

    #[test]
    fn long_ebr_chain_is_capped() {
        let n = 300usize;
        let mut img = vec![0u8; (2 + 2 * n) * 512];
        put_entry(&mut img, 0, 0, 0x0f, 2, (2 * n) as u32);
        for i in 0..n {
            let ebr = 2 + 2 * i;
            put_entry(&mut img, ebr * 512, 0, 0x83, 1, 1);
            if i + 1 < n {
                put_entry(&mut img, ebr * 512, 1, 0x05, (2 * i + 2) as u32, 2);
            }
        }
        let t = listed(img);
        assert_eq!(t.partitions.len(), 1 + MAX_EBR_CHAIN);
        assert_eq!(t.partitions.last().unwrap().index, 4 + MAX_EBR_CHAIN as u32);
        assert!(t.notes.iter().any(|n| n.contains("more than")));
    }

    #[test]
    fn mbr_partition_past_end_is_clipped_or_dropped() {
        let mut img = vec![0u8; 64 * 512];
        put_entry(&mut img, 0, 0, 0x83, 32, 1000);
        put_entry(&mut img, 0, 1, 0x83, 5000, 10);
        put_entry(&mut img, 0, 3, 0x83, 8, 0);
        let t = listed(img);
        assert_eq!(t.partitions.len(), 1);
        assert_eq!(t.partitions[0].len, 32 * 512);
        assert_eq!(t.notes.len(), 3, "{:?}", t.notes);
    }

    #[test]
    fn gpt_with_protective_mbr() {
        let t = listed(gpt_image());
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert!(t.notes.is_empty(), "{:?}", t.notes);
        let gpt = t.gpt.as_ref().unwrap();
        assert!(gpt.header_crc_ok && gpt.entries_crc_ok);
        assert_eq!(gpt.sector_size, 512);
        assert_eq!(gpt.disk_guid, "01234567-89AB-CDEF-0123-456789ABCDEF");
        assert_eq!(t.partitions.len(), 2);
        let esp = &t.partitions[0];
        assert_eq!((esp.index, esp.start, esp.len), (1, 34 * 512, 990 * 512));
        assert_eq!(esp.type_desc, format!("{EFI} (EFI System)"));
        assert_eq!(esp.name.as_deref(), Some("esp"));
        assert!(!esp.has_xfs);
        let data = &t.partitions[1];
        assert_eq!(
            (data.index, data.start, data.len),
            (2, 1024 * 512, 1024 * 512)
        );
        assert_eq!(data.type_desc, format!("{LINUX_FS} (Linux filesystem)"));
        assert_eq!(data.name.as_deref(), Some("dätä"));
        assert!(data.has_xfs);
    }

    #[test]
    fn gpt_bad_crcs_are_reported_and_entries_still_listed() {
        let mut img = gpt_image();
        img[512 + 16] ^= 1; // header CRC
        let t = listed(img);
        let gpt = t.gpt.as_ref().unwrap();
        assert!(!gpt.header_crc_ok && gpt.entries_crc_ok);
        assert_eq!(t.partitions.len(), 2);

        let mut img = gpt_image();
        img[1024 + 127] ^= 1; // inside entry 1, covered by the array CRC only
        let t = listed(img);
        let gpt = t.gpt.as_ref().unwrap();
        assert!(gpt.header_crc_ok && !gpt.entries_crc_ok);
        assert_eq!(t.partitions.len(), 2);
        assert_eq!(t.notes, ["GPT entry array CRC mismatch"]);
    }

    #[test]
    fn gpt_hostile_entry_count_is_bounded() {
        let mut img = gpt_image();
        img[512 + 80..512 + 84].copy_from_slice(&u32::MAX.to_le_bytes());
        img[512 + 84..512 + 88].copy_from_slice(&4096u32.to_le_bytes());
        fix_header_crc(&mut img, 512);
        let t = listed(img);
        assert!(t.gpt.as_ref().unwrap().header_crc_ok);
        assert!(!t.gpt.as_ref().unwrap().entries_crc_ok);
        // Entry 1 is the first 4096 bytes of the array: the two 128-byte entries.
        assert_eq!(t.partitions.len(), 1);

        let mut img = gpt_image();
        img[512 + 84..512 + 88].copy_from_slice(&64u32.to_le_bytes());
        fix_header_crc(&mut img, 512);
        let t = listed(img);
        assert_eq!(t.scheme, Some(Scheme::Gpt));
        assert!(t.partitions.is_empty());
    }

    #[test]
    fn gpt_with_4k_sectors() {
        let mut img = vec![0u8; 4 << 20];
        put_entry(&mut img, 0, 0, 0xEE, 1, 1023);
        let parts = [GptPart(LINUX_FS, 256, 511, "xfs")];
        put_gpt(&mut img, 4096, 1, 2, &parts);
        img[256 * 4096..256 * 4096 + 4].copy_from_slice(b"XFSB");
        let t = listed(img);
        assert_eq!(t.gpt.as_ref().unwrap().sector_size, 4096);
        let p = &t.partitions[0];
        assert_eq!((p.start, p.len, p.has_xfs), (256 * 4096, 256 * 4096, true));
    }

    #[test]
    fn gpt_backup_header_is_used_when_primary_is_gone() {
        let mut img = gpt_image();
        let last = img.len() / 512 - 1;
        // Move the table to the end as a backup: array just before the header.
        let parts = [GptPart(LINUX_FS, 1024, 2047, "b")];
        put_gpt(&mut img, 512, last as u64, last as u64 - 32, &parts);
        img[512..1024].fill(0);
        let t = listed(img);
        let gpt = t.gpt.as_ref().unwrap();
        assert!(gpt.from_backup && gpt.header_crc_ok && gpt.entries_crc_ok);
        assert_eq!(t.partitions.len(), 1);
        assert!(t.partitions[0].has_xfs);
    }

    #[test]
    fn protective_mbr_without_gpt_falls_back_to_mbr() {
        let mut img = vec![0u8; 64 * 512];
        protective_mbr(&mut img);
        let t = listed(img);
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert_eq!(t.partitions[0].type_desc, "0xee (GPT protective)");
        assert!(t.notes[0].contains("no GPT header"));
    }

    #[test]
    fn no_table() {
        // A bare XFS: magic at byte 0.
        let mut img = vec![0u8; 4096];
        img[..4].copy_from_slice(b"XFSB");
        assert_eq!(
            list_partitions(&SliceSource(img)).unwrap(),
            PartitionTable::default()
        );
        // Zeros, a short image, and a boot sector with code where the table would be.
        assert_eq!(
            list_partitions(&SliceSource(vec![0u8; 4096]))
                .unwrap()
                .scheme,
            None
        );
        assert_eq!(
            list_partitions(&SliceSource(vec![0u8; 100]))
                .unwrap()
                .scheme,
            None
        );
        let mut boot = vec![0x90u8; 512];
        boot[510] = 0x55;
        boot[511] = 0xAA;
        assert_eq!(list_partitions(&SliceSource(boot)).unwrap().scheme, None);
        // An MBR with no entries is a table without partitions.
        let mut empty = vec![0u8; 512];
        empty[510] = 0x55;
        empty[511] = 0xAA;
        let t = listed(empty);
        assert_eq!(t.scheme, Some(Scheme::Mbr));
        assert!(t.partitions.is_empty());
    }

    #[test]
    fn guid_and_name_decoding() {
        assert_eq!(guid_string(&guid_bytes(LINUX_FS)), LINUX_FS);
        assert_eq!(guid_string(&[0; 3]), "");
        assert_eq!(decode_name(&[0x41, 0, 0, 0, 0x42, 0]).as_deref(), Some("A"));
        assert_eq!(
            decode_name(&[0, 0xD8, 0x41, 0]).as_deref(),
            Some("\u{FFFD}A")
        );
        assert_eq!(decode_name(&[0; 8]), None);
    }

    fn mutate(mut img: Vec<u8>, edits: &[(usize, u8)], fix_crcs: bool) -> Vec<u8> {
        let len = img.len();
        for &(pos, byte) in edits {
            img[pos % len] = byte;
        }
        if fix_crcs && &img[512..520] == GPT_SIGNATURE {
            let size = u32::from_le_bytes(img[512 + 12..512 + 16].try_into().unwrap()) as usize;
            if (20..=512).contains(&size) {
                let crc = crc32fast::hash(&img[1024..1024 + 128 * 128]);
                img[512 + 88..512 + 92].copy_from_slice(&crc.to_le_bytes());
                fix_header_crc(&mut img, 512);
            }
        }
        img
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                       sig in any::<bool>(), ee in any::<bool>()) {
            let mut bytes = bytes;
            if sig && bytes.len() >= 512 {
                bytes[510] = 0x55;
                bytes[511] = 0xAA;
                for e in 0..4 {
                    bytes[446 + 16 * e] &= 0x80;
                }
                if ee {
                    bytes[446 + 4] = 0xEE;
                }
            }
            listed(bytes);
        }

        #[test]
        fn mutated_gpt_never_panics(edits in proptest::collection::vec(
                (0usize..(1 << 20), any::<u8>()), 1..16),
                // Mostly hit the header and the first entries.
                header_edits in proptest::collection::vec((512usize..1024 + 512, any::<u8>()), 0..8),
                fix_crcs in any::<bool>(), cut in 0usize..(1 << 20)) {
            let mut img = mutate(gpt_image(), &edits, false);
            img = mutate(img, &header_edits, fix_crcs);
            if cut % 4 == 0 {
                img.truncate(cut);
            }
            listed(img);
        }

        #[test]
        fn mutated_mbr_never_panics(edits in proptest::collection::vec(
                (prop_oneof![446usize..512, 256 * 512 + 446usize..256 * 512 + 512,
                             768 * 512 + 446usize..768 * 512 + 512], any::<u8>()), 1..24),
                cut in 0usize..(1 << 20)) {
            let mut img = mutate(mbr_image(), &edits, false);
            if cut % 4 == 0 {
                img.truncate(cut);
            }
            listed(img);
        }
    }
}
