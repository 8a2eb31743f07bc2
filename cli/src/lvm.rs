//! LVM2 physical volumes, volume groups and linear logical volumes, read-only.
//!
//! [`scan`] looks for a PV label (`LABELONE`, in one of the first four sectors) at the start of
//! every partition of a whole-disk image, or at the start of the image when it has no partition
//! table. From each PV it reads the PV header (uuid, size, data and metadata areas), the header
//! of each metadata area and the committed copy of the text-format volume group metadata that
//! the area's first raw location points at (a ring buffer after the 512-byte header). Label,
//! area header and text carry LVM2's checksum; a copy that fails one is left out with a note.
//! PVs are grouped by VG id and the copy with the highest `seqno` describes the VG.
//!
//! [`ScanResult::resolve`] maps a linear LV (`VG/LV`) to the byte ranges of the image that hold
//! it, in LV order, to be read through [`Concat`](xfs_format::Concat). Every other kind of
//! segment (striped over more than one PV, thin, raid, mirror, snapshot, cache, ...) is an
//! [`LvmError::Unsupported`].
//!
//! Written here rather than taken from a crate (`lvm2` 0.0.3, or its fork `lamlvm` 0.1.3):
//! both read one PV at a time through `Read + Seek`, so an LV whose segments lie on two PVs
//! cannot be mapped, and their metadata parser recurses without a depth limit (a crafted
//! `[[[[...` would overflow the stack). This one bounds everything: at most [`MAX_METADATA`]
//! bytes of text, nesting [`MAX_DEPTH`], [`MAX_NODES`] values, [`MAX_SEGMENTS`] per LV.
//!
//! Facts from LVM2's on-disk format (lib/label/label.h, lib/format_text/layout.h and the text
//! format it writes); no code of LVM2 is used.

use std::collections::BTreeMap;

use serde::Serialize;

use xfs_format::bytes::{le_u32, le_u64};
use xfs_format::sb::XFS_SB_MAGIC;
use xfs_format::ByteSource;

use crate::partition::PartitionTable;

const SECTOR: u64 = 512;
const SECTOR_LEN: usize = 512;
/// The label is looked for in sectors 0..LABEL_SCAN_SECTORS of a PV.
const LABEL_SCAN_SECTORS: u64 = 4;
const LABEL_ID: &[u8; 8] = b"LABELONE";
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
/// label_header: id[8], sector_xl u64, crc_xl u32, offset_xl u32, type[8].
const LABEL_SECTOR_XL: usize = 8;
const LABEL_CRC_XL: usize = 16;
/// The label checksum covers the sector from here (after crc_xl) to its end.
const LABEL_CRC_FROM: usize = 20;
const LABEL_OFFSET_XL: usize = 20;
const LABEL_TYPE_AT: usize = 24;
const LABEL_HEADER_LEN: usize = 32;
/// pv_header: pv_uuid[32], device_size_xl u64, then disk_locn lists (offset u64, size u64)
/// each ended by an all-zero entry: data areas, then metadata areas.
const ID_LEN: usize = 32;
const DISK_LOCN_LEN: usize = 16;
/// mda_header: checksum_xl u32, magic[16], version u32, start u64, size u64, then raw_locn
/// entries (offset u64, size u64, checksum u32, flags u32) ended by an all-zero one.
const MDA_HEADER_LEN: u64 = 512;
const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
const MDA_MAGIC_AT: usize = 4;
const MDA_VERSION_AT: usize = 20;
const MDA_START_AT: usize = 24;
const MDA_SIZE_AT: usize = 32;
const MDA_RAW_LOCNS_AT: usize = 40;
const RAW_LOCN_IGNORED: u32 = 1;
/// Seed of LVM2's checksum (a CRC-32 of the reflected 0xedb88320 polynomial, no final xor).
const LVM_CRC_SEED: u32 = 0xf597_a6cf;

/// Most bytes of metadata text read from one area, whatever its header claims.
pub const MAX_METADATA: u64 = 4 << 20;
/// Deepest nesting of sections and lists in the metadata text.
pub const MAX_DEPTH: usize = 16;
/// Most values (numbers, strings, lists, sections) in one metadata text.
pub const MAX_NODES: usize = 1 << 20;
/// Most segments mapped for one LV.
pub const MAX_SEGMENTS: usize = 1 << 16;
/// Most metadata areas read per PV (LVM2 writes at most two).
const MAX_MDAS: usize = 4;

/// LVM2's checksum of `data` from `seed`.
pub fn lvm_crc(seed: u32, data: &[u8]) -> u32 {
    let mut crc = seed;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    crc
}

// ---------------------------------------------------------------------------------------------
// The metadata text

/// A value of the text format: `name = 12`, `name = "text"`, `name = [ ... ]`, `name { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A number (the format has integers only).
    Int(i64),
    /// A quoted string, escapes resolved.
    Str(String),
    /// `[a, b, ...]`.
    List(Vec<Value>),
    /// `name { key = value ... }`, keys in text order.
    Section(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` in a section.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    fn uint(&self, key: &str) -> Option<u64> {
        self.int(key).and_then(|n| u64::try_from(n).ok())
    }

    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn strings(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn sections(&self) -> impl Iterator<Item = (&str, &Value)> {
        let items: &[(String, Value)] = match self {
            Value::Section(items) => items,
            _ => &[],
        };
        items
            .iter()
            .filter(|(_, v)| matches!(v, Value::Section(_)))
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// Parses metadata text into its top-level section. Errors are sentences naming the line.
pub fn parse_metadata(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        nodes: 0,
    };
    let items = p.items(0, false)?;
    Ok(Value::Section(items))
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    nodes: usize,
}

impl Parser<'_> {
    fn line(&self) -> usize {
        let upto = self.s.get(..self.pos).unwrap_or(self.s);
        upto.iter()
            .filter(|&&b| b == b'\n')
            .count()
            .saturating_add(1)
    }

    fn err(&self, what: &str) -> String {
        format!("metadata text line {}: {what}", self.line())
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    /// Skips white space and `#` comments (and the NUL padding after the text).
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.bump();
                }
            } else if c.is_ascii_whitespace() || c == 0 {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn count_node(&mut self) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(1);
        if self.nodes > MAX_NODES {
            return Err(self.err(&format!("more than {MAX_NODES} values")));
        }
        Ok(())
    }

    /// `key = value` and `key { ... }` items until the end (top level) or a `}`.
    fn items(&mut self, depth: usize, closed: bool) -> Result<Vec<(String, Value)>, String> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("sections nested deeper than {MAX_DEPTH}")));
        }
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None if closed => return Err(self.err("a section is not closed")),
                None => return Ok(items),
                Some(b'}') if closed => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => {}
            }
            let key = self.ident()?;
            self.skip_ws();
            match self.peek() {
                Some(b'=') => {
                    self.bump();
                    let v = self.value(depth)?;
                    items.push((key, v));
                }
                Some(b'{') => {
                    self.bump();
                    self.count_node()?;
                    let inner = self.items(depth.saturating_add(1), true)?;
                    items.push((key, Value::Section(inner)));
                }
                _ => return Err(self.err(&format!("expected '=' or '{{' after {key:?}"))),
            }
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_ascii_whitespace() && !b"{}=[],\"#".contains(&c) && c != 0)
        {
            self.bump();
        }
        let id = self.s.get(start..self.pos).unwrap_or_default();
        if id.is_empty() {
            return Err(self.err("expected a name"));
        }
        Ok(String::from_utf8_lossy(id).into_owned())
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("lists nested deeper than {MAX_DEPTH}")));
        }
        self.count_node()?;
        self.skip_ws();
        match self.peek() {
            Some(b'"') => {
                self.bump();
                let mut out = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("a string is not closed")),
                        Some(b'"') => {
                            self.bump();
                            break;
                        }
                        Some(b'\\') => {
                            self.bump();
                            if let Some(c) = self.peek() {
                                out.push(c);
                                self.bump();
                            }
                        }
                        Some(c) => {
                            out.push(c);
                            self.bump();
                        }
                    }
                }
                Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(b'[') => {
                self.bump();
                let mut list = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.bump();
                            return Ok(Value::List(list));
                        }
                        Some(b',') if !list.is_empty() => self.bump(),
                        None => return Err(self.err("a list is not closed")),
                        _ => list.push(self.value(depth.saturating_add(1))?),
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.bump();
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
                let t = self.s.get(start..self.pos).unwrap_or_default();
                std::str::from_utf8(t)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .map(Value::Int)
                    .ok_or_else(|| self.err("a number out of range"))
            }
            _ => Err(self.err("expected a number, a string or a list")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a scan finds

/// Where a PV is: a partition of the image, or the whole image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhysicalVolume {
    /// The partition number (as `partitions` lists them), `None` for a whole-device PV.
    pub partition: Option<u32>,
    /// First byte of the PV in the image.
    pub start: u64,
    /// Bytes of the image from `start` that the PV may use (the partition's length).
    pub len: u64,
    /// The PV uuid in LVM's text form (`xxxxxx-xxxx-...`).
    pub uuid: String,
    /// The device size the PV header records, in bytes.
    pub device_size: u64,
    /// Sector of the PV that holds its label.
    pub label_sector: u64,
    /// The volume group the PV's metadata names, if it could be read.
    pub vg_name: Option<String>,
    /// The `seqno` of the metadata copy read from this PV.
    pub seqno: Option<u64>,
}

/// One stripe of a segment: an LV name's PV (`pv0`) and the extent there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stripe {
    /// The PV's name in the VG metadata (`pv0`, `pv1`, ...).
    pub pv: String,
    /// First physical extent on that PV.
    pub extent: u64,
}

/// One segment of an LV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// First logical extent of the LV this segment covers.
    pub start_extent: u64,
    /// Extents it covers.
    pub extent_count: u64,
    /// The segment type as written (`striped`, `thin`, `raid1`, ...).
    pub seg_type: String,
    /// `stripe_count` (1 for a linear segment).
    pub stripe_count: u64,
    /// Where the data is, for `striped` segments.
    pub stripes: Vec<Stripe>,
}

impl Segment {
    /// The type as `lvs` shows it: `linear` for a striped segment of one stripe.
    pub fn type_name(&self) -> String {
        if self.is_linear() {
            "linear".into()
        } else if self.seg_type == "striped" {
            format!("striped ({} stripes)", self.stripe_count)
        } else {
            self.seg_type.clone()
        }
    }

    fn is_linear(&self) -> bool {
        self.seg_type == "striped" && self.stripe_count == 1
    }
}

/// A logical volume of a VG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogicalVolume {
    /// Its name in the VG.
    pub name: String,
    /// Its uuid.
    pub id: String,
    /// `VISIBLE` is in its status (hidden LVs are parts of others: raid images, thin pools).
    pub visible: bool,
    /// Its segments, in logical order.
    pub segments: Vec<Segment>,
    /// Size in bytes (extents of all segments times the extent size).
    pub size: u64,
    /// Every segment is linear and lies on PVs of the image.
    pub linear: bool,
    /// An XFS superblock magic at its first byte (linear LVs only).
    pub has_xfs: bool,
    /// The snapshot whose copy-on-write store this LV is (a `snapshot` segment's
    /// `cow_store`): its bytes are the exception store, not a filesystem.
    pub cow_of: Option<String>,
}

/// A PV as the VG metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VgPv {
    /// Its name in the metadata (`pv0`).
    pub name: String,
    /// Its uuid.
    pub uuid: String,
    /// First byte of extent 0, from the start of the PV.
    pub pe_start: u64,
    /// Extents on it.
    pub pe_count: u64,
    /// Index in [`ScanResult::pvs`] of the PV found in the image, `None` when it is missing.
    pub found: Option<usize>,
}

/// A volume group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeGroup {
    /// Its name.
    pub name: String,
    /// Its uuid.
    pub id: String,
    /// The metadata sequence number of the copy used (the highest found).
    pub seqno: u64,
    /// Bytes per extent.
    pub extent_size: u64,
    /// Its PVs.
    pub pvs: Vec<VgPv>,
    /// Its LVs in metadata order.
    pub lvs: Vec<LogicalVolume>,
}

/// What [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanResult {
    /// Every PV label found.
    pub pvs: Vec<PhysicalVolume>,
    /// The volume groups of those PVs.
    pub vgs: Vec<VolumeGroup>,
    /// Problems met, in plain words.
    pub notes: Vec<String>,
}

/// Why an LV cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LvmError {
    /// No such VG or LV; the message lists what there is.
    NotFound(String),
    /// A segment type this reader does not map (striped, thin, raid, ...).
    Unsupported(String),
    /// The metadata is inconsistent or names a PV that is not in the image.
    Broken(String),
}

impl std::fmt::Display for LvmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LvmError::NotFound(m) | LvmError::Unsupported(m) | LvmError::Broken(m) => {
                f.write_str(m)
            }
        }
    }
}

impl ScanResult {
    /// The byte ranges (start in the image, length) holding `VG/LV`, in LV order.
    pub fn resolve(&self, name: &str) -> Result<Vec<(u64, u64)>, LvmError> {
        let (vg_name, lv_name) = name
            .split_once('/')
            .ok_or_else(|| LvmError::NotFound(format!("{name:?}: a volume is named VG/LV")))?;
        let vg = self.vgs.iter().find(|v| v.name == vg_name).ok_or_else(|| {
            let known: Vec<&str> = self.vgs.iter().map(|v| v.name.as_str()).collect();
            LvmError::NotFound(format!(
                "no volume group {vg_name:?} ({})",
                if known.is_empty() {
                    "no LVM2 volume group found".to_string()
                } else {
                    format!("found: {}", known.join(", "))
                }
            ))
        })?;
        let lv = vg.lvs.iter().find(|l| l.name == lv_name).ok_or_else(|| {
            let known: Vec<String> = vg
                .lvs
                .iter()
                .map(|l| format!("{}/{}", vg.name, l.name))
                .collect();
            LvmError::NotFound(format!(
                "volume group {vg_name} has no logical volume {lv_name:?} (it has: {})",
                known.join(", ")
            ))
        })?;
        self.map_lv(vg, lv)
    }

    /// The PVs, VGs and LVs as `partitions` prints them, one line each (with a line per
    /// segment), empty when no PV was found.
    pub fn text_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.pvs.is_empty() {
            return out;
        }
        out.push("LVM2 physical volumes".into());
        out.push(format!(
            "{:>3}  {:>14}  {:>14}  {:<38}  vg",
            "#", "start (bytes)", "length", "uuid"
        ));
        for pv in &self.pvs {
            out.push(format!(
                "{:>3}  {:>14}  {:>14}  {:<38}  {}",
                pv.partition.map_or("-".into(), |n| n.to_string()),
                pv.start,
                pv.len,
                pv.uuid,
                pv.vg_name.as_deref().unwrap_or("-")
            ));
        }
        for vg in &self.vgs {
            out.push(format!(
                "volume group {} (uuid {}, seqno {}, extent size {} bytes, {} PVs, {} LVs)",
                vg.name,
                vg.id,
                vg.seqno,
                vg.extent_size,
                vg.pvs.len(),
                vg.lvs.len()
            ));
            for p in &vg.pvs {
                let place = p.found.and_then(|i| self.pvs.get(i)).map_or_else(
                    || "not in this image".to_string(),
                    |f| match f.partition {
                        Some(n) => format!("partition {n}"),
                        None => "the whole image".into(),
                    },
                );
                out.push(format!(
                    "  {} {}: pe_start {} bytes, {} extents, {place}",
                    p.name, p.uuid, p.pe_start, p.pe_count
                ));
            }
            out.push(format!(
                "  {:<30}  {:>14}  {:<4}  type",
                "logical volume", "size (bytes)", "xfs"
            ));
            for lv in &vg.lvs {
                let types: Vec<String> = lv.segments.iter().map(Segment::type_name).collect();
                let mut types_uniq: Vec<String> = Vec::new();
                for t in types {
                    if !types_uniq.contains(&t) {
                        types_uniq.push(t);
                    }
                }
                out.push(format!(
                    "  {:<30}  {:>14}  {:<4}  {}{}{}",
                    format!("{}/{}", vg.name, lv.name),
                    lv.size,
                    if lv.has_xfs { "yes" } else { "-" },
                    types_uniq.join(", "),
                    if lv.cow_of.is_some() {
                        " (snapshot store, not readable)"
                    } else if lv.linear {
                        ""
                    } else {
                        " (not readable)"
                    },
                    if lv.visible { "" } else { " (hidden)" }
                ));
                for seg in &lv.segments {
                    let stripes: Vec<String> = seg
                        .stripes
                        .iter()
                        .map(|st| {
                            format!(
                                "{}:{}-{}",
                                st.pv,
                                st.extent,
                                st.extent
                                    .saturating_add(
                                        seg.extent_count.div_ceil(seg.stripe_count.max(1))
                                    )
                                    .saturating_sub(1)
                            )
                        })
                        .collect();
                    out.push(format!(
                        "    extents {}-{}: {}{}",
                        seg.start_extent,
                        seg.start_extent
                            .saturating_add(seg.extent_count)
                            .saturating_sub(1),
                        seg.type_name(),
                        if stripes.is_empty() {
                            String::new()
                        } else {
                            format!(" on {}", stripes.join(" "))
                        }
                    ));
                }
            }
        }
        for n in &self.notes {
            out.push(format!("# {n}"));
        }
        out
    }

    fn map_lv(&self, vg: &VolumeGroup, lv: &LogicalVolume) -> Result<Vec<(u64, u64)>, LvmError> {
        let full = format!("{}/{}", vg.name, lv.name);
        if let Some(snap) = &lv.cow_of {
            return Err(LvmError::Unsupported(format!(
                "{full}: unsupported LV type: snapshot (the copy-on-write store of {}/{snap})",
                vg.name
            )));
        }
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut next_extent = 0u64;
        let broken = |m: String| LvmError::Broken(format!("{full}: {m}"));
        for seg in &lv.segments {
            if !seg.is_linear() {
                return Err(LvmError::Unsupported(format!(
                    "{full}: unsupported LV type: segment at extent {} is {} (only linear \
                     logical volumes can be read)",
                    seg.start_extent,
                    seg.type_name()
                )));
            }
            if seg.start_extent != next_extent {
                return Err(broken(format!(
                    "segments do not follow each other (extent {} expected, {} found)",
                    next_extent, seg.start_extent
                )));
            }
            let Some(stripe) = seg.stripes.first() else {
                return Err(broken("a segment without a stripe".into()));
            };
            let pv =
                vg.pvs.iter().find(|p| p.name == stripe.pv).ok_or_else(|| {
                    broken(format!("segment names an unknown PV {:?}", stripe.pv))
                })?;
            let found = pv.found.and_then(|i| self.pvs.get(i)).ok_or_else(|| {
                broken(format!(
                    "physical volume {} (uuid {}) is not in this image",
                    pv.name, pv.uuid
                ))
            })?;
            let end_extent = stripe.extent.checked_add(seg.extent_count);
            if end_extent.is_none_or(|e| e > pv.pe_count) {
                return Err(broken(format!(
                    "segment at extent {} runs past the {} extents of {}",
                    seg.start_extent, pv.pe_count, pv.name
                )));
            }
            let off = stripe
                .extent
                .checked_mul(vg.extent_size)
                .and_then(|o| o.checked_add(pv.pe_start));
            let len = seg.extent_count.checked_mul(vg.extent_size);
            let (Some(off), Some(len)) = (off, len) else {
                return Err(broken("extent addresses overflow".into()));
            };
            if off.checked_add(len).is_none_or(|e| e > found.len) {
                return Err(broken(format!(
                    "segment at extent {} lies past the end of {} ({} bytes of the image)",
                    seg.start_extent, pv.name, found.len
                )));
            }
            let start = found
                .start
                .checked_add(off)
                .ok_or_else(|| broken("extent addresses overflow".into()))?;
            // Adjacent segments merge into one piece.
            match pieces.last_mut() {
                Some(last) if last.0.checked_add(last.1) == Some(start) => {
                    last.1 = last.1.saturating_add(len);
                }
                _ => pieces.push((start, len)),
            }
            next_extent = next_extent.saturating_add(seg.extent_count);
        }
        if pieces.is_empty() {
            return Err(broken("no segments".into()));
        }
        Ok(pieces)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading PVs

struct FoundPv {
    pv: PhysicalVolume,
    /// The VG section of the metadata copy read, with its name.
    meta: Option<(String, Value)>,
}

/// Reads exactly `len` bytes or nothing.
fn read<S: ByteSource + ?Sized>(src: &S, off: u64, len: usize) -> Option<Vec<u8>> {
    src.read_at(off, len).ok().map(|b| b.into_owned())
}

/// Formats a 32-character PV / VG uuid as LVM prints it (6-4-4-4-4-4-6).
fn uuid_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(38);
    for (i, c) in s.chars().enumerate() {
        if matches!(i, 6 | 10 | 14 | 18 | 22 | 26) {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// Looks for a PV in `len` bytes of `src` from `start`.
fn read_pv<S: ByteSource + ?Sized>(
    src: &S,
    start: u64,
    len: u64,
    partition: Option<u32>,
    notes: &mut Vec<String>,
) -> Option<FoundPv> {
    let place = match partition {
        Some(n) => format!("partition {n}"),
        None => "the whole image".to_string(),
    };
    let (label_sector, sector) = (0..LABEL_SCAN_SECTORS).find_map(|s| {
        let off = s.checked_mul(SECTOR)?;
        if off.checked_add(SECTOR)? > len {
            return None;
        }
        let b = read(src, start.checked_add(off)?, SECTOR_LEN)?;
        b.starts_with(LABEL_ID).then_some((s, b))
    })?;
    let crc = sector
        .get(LABEL_CRC_FROM..)
        .map(|b| lvm_crc(LVM_CRC_SEED, b));
    if le_u64(&sector, LABEL_SECTOR_XL) != Some(label_sector)
        || crc != le_u32(&sector, LABEL_CRC_XL)
        || sector.get(LABEL_TYPE_AT..LABEL_HEADER_LEN) != Some(&LABEL_TYPE[..])
    {
        notes.push(format!(
            "{place}: an LVM2 label in sector {label_sector} fails its checksum or is not an \
             LVM2 label; left out"
        ));
        return None;
    }
    let hdr = le_u32(&sector, LABEL_OFFSET_XL).and_then(|o| usize::try_from(o).ok())?;
    let pvh = sector
        .get(hdr..)
        .filter(|p| p.len() >= ID_LEN.saturating_add(8))?;
    let uuid = uuid_text(pvh.get(..ID_LEN)?);
    let device_size = le_u64(pvh, ID_LEN).unwrap_or(0);
    // data area list, then metadata area list, each ended by a zero entry
    let mut at = ID_LEN.saturating_add(8);
    let mut lists: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
    for list in &mut lists {
        while let (Some(o), Some(s)) = (le_u64(pvh, at), le_u64(pvh, at.saturating_add(8))) {
            at = at.saturating_add(DISK_LOCN_LEN);
            if o == 0 {
                break;
            }
            list.push((o, s));
        }
    }
    let mut pv = PhysicalVolume {
        partition,
        start,
        len,
        uuid,
        device_size,
        label_sector,
        vg_name: None,
        seqno: None,
    };
    let mut best: Option<(u64, String, Value)> = None;
    let [_, mdas] = &lists;
    for &(off, size) in mdas.iter().take(MAX_MDAS) {
        match read_mda(src, start, len, off, size) {
            Ok(Some((name, vg))) => {
                let seq = vg.uint("seqno").unwrap_or(0);
                if best.as_ref().is_none_or(|b| seq > b.0) {
                    best = Some((seq, name, vg));
                }
            }
            Ok(None) => {}
            Err(e) => notes.push(format!(
                "{place}: PV {}: metadata area at byte {off}: {e}",
                pv.uuid
            )),
        }
    }
    let meta = best.map(|(seq, name, vg)| {
        pv.vg_name = Some(name.clone());
        pv.seqno = Some(seq);
        (name, vg)
    });
    Some(FoundPv { pv, meta })
}

/// Reads the committed metadata of the area at `off` (bytes from the PV start): the VG's
/// name and section, `None` for an area marked ignored or empty (a PV in no VG).
fn read_mda<S: ByteSource + ?Sized>(
    src: &S,
    pv_start: u64,
    pv_len: u64,
    off: u64,
    size: u64,
) -> Result<Option<(String, Value)>, String> {
    if off.checked_add(size).is_none_or(|e| e > pv_len) || size < MDA_HEADER_LEN {
        return Err(format!("area of {size} bytes lies outside the PV"));
    }
    let base = pv_start.saturating_add(off);
    let h = read(src, base, SECTOR_LEN).ok_or("cannot read the area header")?;
    if h.get(MDA_MAGIC_AT..MDA_MAGIC_AT.saturating_add(16)) != Some(&MDA_MAGIC[..]) {
        return Err("no metadata area header magic".into());
    }
    let crc = h.get(4..).map(|b| lvm_crc(LVM_CRC_SEED, b));
    if crc != le_u32(&h, 0) {
        return Err("the area header fails its checksum".into());
    }
    if le_u32(&h, MDA_VERSION_AT) != Some(1) || le_u64(&h, MDA_START_AT) != Some(off) {
        return Err("the area header is not version 1 or does not describe its own area".into());
    }
    let mda_size = le_u64(&h, MDA_SIZE_AT).unwrap_or(0).min(size);
    // raw_locns[0] is the committed metadata.
    let r = MDA_RAW_LOCNS_AT;
    let (Some(t_off), Some(t_size), Some(t_crc), Some(flags)) = (
        le_u64(&h, r),
        le_u64(&h, r.saturating_add(8)),
        le_u32(&h, r.saturating_add(16)),
        le_u32(&h, r.saturating_add(20)),
    ) else {
        return Ok(None);
    };
    if t_off == 0 || t_size == 0 || flags & RAW_LOCN_IGNORED != 0 {
        return Ok(None);
    }
    let ring = mda_size.saturating_sub(MDA_HEADER_LEN);
    if t_size > MAX_METADATA || t_size > ring || t_off < MDA_HEADER_LEN || t_off >= mda_size {
        return Err(format!(
            "metadata text of {t_size} bytes at {t_off} does not fit the area ({mda_size} bytes)"
        ));
    }
    // A ring buffer after the header: the text may wrap to its start.
    let first = t_size.min(mda_size.saturating_sub(t_off));
    let rest = t_size.saturating_sub(first);
    let mut text = read(src, base.saturating_add(t_off), first as usize)
        .ok_or("cannot read the metadata text")?;
    if rest > 0 {
        let more = read(src, base.saturating_add(MDA_HEADER_LEN), rest as usize)
            .ok_or("cannot read the metadata text")?;
        text.extend_from_slice(&more);
    }
    if lvm_crc(LVM_CRC_SEED, &text) != t_crc {
        return Err("the metadata text fails its checksum".into());
    }
    let text = String::from_utf8_lossy(&text);
    let root = parse_metadata(&text)?;
    // The one top-level section is the VG.
    let (name, vg) = root
        .sections()
        .next()
        .ok_or("the metadata text has no volume group section")?;
    Ok(Some((name.to_string(), vg.clone())))
}

fn parse_vg(name: &str, vg: &Value, notes: &mut Vec<String>) -> VolumeGroup {
    let extent_size = vg.uint("extent_size").unwrap_or(0).saturating_mul(SECTOR);
    let mut pvs = Vec::new();
    if let Some(list) = vg.get("physical_volumes") {
        for (pvname, p) in list.sections() {
            pvs.push(VgPv {
                name: pvname.to_string(),
                uuid: p.str("id").unwrap_or_default().to_string(),
                pe_start: p.uint("pe_start").unwrap_or(0).saturating_mul(SECTOR),
                pe_count: p.uint("pe_count").unwrap_or(0),
                found: None,
            });
        }
    }
    let mut lvs = Vec::new();
    if let Some(list) = vg.get("logical_volumes") {
        for (lvname, l) in list.sections() {
            let mut segments = Vec::new();
            for (key, s) in l.sections() {
                if !key.starts_with("segment") {
                    continue;
                }
                if segments.len() >= MAX_SEGMENTS {
                    notes.push(format!(
                        "{name}/{lvname}: more than {MAX_SEGMENTS} segments; the rest left out"
                    ));
                    break;
                }
                let mut stripes = Vec::new();
                if let Some(Value::List(items)) = s.get("stripes") {
                    for pair in items.chunks(2) {
                        if let [Value::Str(pv), Value::Int(e)] = pair {
                            stripes.push(Stripe {
                                pv: pv.clone(),
                                extent: u64::try_from(*e).unwrap_or(u64::MAX),
                            });
                        }
                    }
                }
                segments.push(Segment {
                    start_extent: s.uint("start_extent").unwrap_or(0),
                    extent_count: s.uint("extent_count").unwrap_or(0),
                    seg_type: s.str("type").unwrap_or("unknown").to_string(),
                    stripe_count: s.uint("stripe_count").unwrap_or(0),
                    stripes,
                });
            }
            segments.sort_by_key(|s| s.start_extent);
            let extents = segments
                .iter()
                .fold(0u64, |a, s| a.saturating_add(s.extent_count));
            lvs.push(LogicalVolume {
                name: lvname.to_string(),
                id: l.str("id").unwrap_or_default().to_string(),
                visible: l.strings("status").iter().any(|s| s == "VISIBLE"),
                segments,
                size: extents.saturating_mul(extent_size),
                linear: false,
                has_xfs: false,
                cow_of: None,
            });
        }
    }
    // Snapshots: the hidden LV with the `snapshot` segment names its copy-on-write store,
    // which is itself a linear LV.
    if let Some(list) = vg.get("logical_volumes") {
        for (snap, l) in list.sections() {
            for (_, seg) in l.sections() {
                if seg.str("type") != Some("snapshot") {
                    continue;
                }
                // `merging_store` while a merge into the origin is under way
                if let Some(cow) = seg.str("cow_store").or(seg.str("merging_store")) {
                    if let Some(lv) = lvs.iter_mut().find(|lv| lv.name == cow) {
                        lv.cow_of = Some(snap.to_string());
                    }
                }
            }
        }
    }
    VolumeGroup {
        name: name.to_string(),
        id: vg.str("id").unwrap_or_default().to_string(),
        seqno: vg.uint("seqno").unwrap_or(0),
        extent_size,
        pvs,
        lvs,
    }
}

/// Finds the LVM2 PVs in the partitions of `table` (or in the whole of `src` when it has no
/// partition), their VGs and LVs.
pub fn scan<S: ByteSource + ?Sized>(src: &S, table: &PartitionTable) -> ScanResult {
    let mut res = ScanResult::default();
    let mut found: Vec<FoundPv> = Vec::new();
    if table.partitions.is_empty() {
        found.extend(read_pv(src, 0, src.size(), None, &mut res.notes));
    } else {
        for p in &table.partitions {
            found.extend(read_pv(src, p.start, p.len, Some(p.index), &mut res.notes));
        }
    }
    // VGs by id; the newest copy of each (highest seqno) describes it.
    let mut newest: BTreeMap<String, (u64, &str, &Value)> = BTreeMap::new();
    for f in &found {
        if let Some((name, vg)) = &f.meta {
            let id = vg.str("id").unwrap_or(name).to_string();
            let seq = vg.uint("seqno").unwrap_or(0);
            if newest.get(&id).is_none_or(|n| seq > n.0) {
                newest.insert(id, (seq, name, vg));
            }
        }
    }
    for (seq, name, vg) in newest.into_values() {
        let mut vg = parse_vg(name, vg, &mut res.notes);
        for p in &mut vg.pvs {
            let bare: String = p.uuid.chars().filter(|&c| c != '-').collect();
            p.found = found
                .iter()
                .position(|f| f.pv.uuid.chars().filter(|&c| c != '-').eq(bare.chars()));
            if p.found.is_none() {
                res.notes.push(format!(
                    "volume group {name}: physical volume {} (uuid {}) is not in this image",
                    p.name, p.uuid
                ));
            }
        }
        for f in found.iter() {
            if f.pv.vg_name.as_deref() == Some(name) && f.pv.seqno.is_some_and(|s| s < seq) {
                res.notes.push(format!(
                    "PV {} holds older metadata of {name} (seqno {} < {seq})",
                    f.pv.uuid,
                    f.pv.seqno.unwrap_or(0)
                ));
            }
        }
        res.vgs.push(vg);
    }
    res.pvs = found.into_iter().map(|f| f.pv).collect();
    // Which LVs are linear and readable, and which hold XFS.
    let xfs_magic = XFS_SB_MAGIC.to_be_bytes();
    for vi in 0..res.vgs.len() {
        let Some(vg) = res.vgs.get(vi) else { break };
        let flags: Vec<(bool, bool)> = vg
            .lvs
            .iter()
            .map(|lv| match res.map_lv(vg, lv) {
                Ok(pieces) => {
                    let xfs = pieces
                        .first()
                        .and_then(|&(s, _)| read(src, s, 4))
                        .is_some_and(|m| m == xfs_magic);
                    (true, xfs)
                }
                Err(_) => (false, false),
            })
            .collect();
        if let Some(vg) = res.vgs.get_mut(vi) {
            for (lv, (linear, xfs)) in vg.lvs.iter_mut().zip(flags) {
                lv.linear = linear;
                lv.has_xfs = xfs;
            }
        }
    }
    res
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_format() {
        let t = "# comment\nvg {\n id = \"a-b\"\n seqno = 3 # trailing\n status = [\"READ\", \"WRITE\"]\n \
                 pvs {\n pv0 { pe_start = 2048\n } }\n s = \"q\\\"x\"\n n = -1\n e = []\n}\ncontents = \"Text\"\n\0\0";
        let v = parse_metadata(t).unwrap();
        let vg = v.get("vg").unwrap();
        assert_eq!(vg.str("id"), Some("a-b"));
        assert_eq!(vg.uint("seqno"), Some(3));
        assert_eq!(vg.strings("status"), ["READ", "WRITE"]);
        assert_eq!(
            vg.get("pvs").unwrap().get("pv0").unwrap().uint("pe_start"),
            Some(2048)
        );
        assert_eq!(vg.str("s"), Some("q\"x"));
        assert_eq!(vg.int("n"), Some(-1));
        assert_eq!(vg.get("e"), Some(&Value::List(vec![])));
        assert_eq!(v.str("contents"), Some("Text"));
    }

    #[test]
    fn parser_limits_and_errors() {
        let deep = format!("a = {}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_metadata(&deep).unwrap_err().contains("deeper"));
        let deep = format!("{}{}", "a {\n".repeat(100), "}".repeat(100));
        assert!(parse_metadata(&deep).unwrap_err().contains("deeper"));
        for bad in [
            "a {",
            "a = \"x",
            "a = [1, 2",
            "a = 99999999999999999999",
            "= 1",
            "a 1",
            "a = }",
        ] {
            assert!(parse_metadata(bad).is_err(), "{bad}");
        }
        let many = format!("a = [{}]", "1,".repeat(MAX_NODES + 1));
        assert!(parse_metadata(&many).unwrap_err().contains("more than"));
    }

    #[test]
    fn lvm_crc_of_nothing_is_the_seed() {
        assert_eq!(lvm_crc(LVM_CRC_SEED, &[]), LVM_CRC_SEED);
        // The reflected CRC-32 update without the usual inversions: crc32("a") with seed
        // !0 and a final inversion is 0xe8b7be43.
        assert_eq!(!lvm_crc(!0, b"a"), 0xe8b7_be43);
    }

    const PV_UUID: &str = "abcdefGHIJKLmnopQRSTuvwxYZ012345";
    const MDA_AT: usize = 4096;
    const MDA_SIZE: usize = 16384;

    fn put(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    /// A 2 MiB whole-device PV whose one metadata area holds `text`, at `text_at` of the
    /// area's ring (wrapping past its end when it must), with every checksum right.
    fn pv_image(text: &[u8], text_at: usize) -> Vec<u8> {
        let mut img = vec![0u8; 2 << 20];
        // label in sector 1
        let l = 512;
        put(&mut img, l, LABEL_ID);
        put(&mut img, l + 8, &1u64.to_le_bytes());
        put(&mut img, l + 20, &32u32.to_le_bytes());
        put(&mut img, l + 24, LABEL_TYPE);
        let h = l + 32;
        put(&mut img, h, PV_UUID.as_bytes());
        put(&mut img, h + 32, &(2u64 << 20).to_le_bytes());
        put(&mut img, h + 40, &(1u64 << 20).to_le_bytes()); // data area at 1 MiB
                                                            // zero entry at h+56, then the metadata area list
        put(&mut img, h + 72, &(MDA_AT as u64).to_le_bytes());
        put(&mut img, h + 80, &(MDA_SIZE as u64).to_le_bytes());
        let crc = lvm_crc(LVM_CRC_SEED, &img[l + 20..l + 512]);
        put(&mut img, l + 16, &crc.to_le_bytes());
        // metadata area header and text
        let m = MDA_AT;
        put(&mut img, m + 4, MDA_MAGIC);
        put(&mut img, m + 20, &1u32.to_le_bytes());
        put(&mut img, m + 24, &(MDA_AT as u64).to_le_bytes());
        put(&mut img, m + 32, &(MDA_SIZE as u64).to_le_bytes());
        put(&mut img, m + 40, &(text_at as u64).to_le_bytes());
        put(&mut img, m + 48, &(text.len() as u64).to_le_bytes());
        put(&mut img, m + 56, &lvm_crc(LVM_CRC_SEED, text).to_le_bytes());
        let first = text.len().min(MDA_SIZE - text_at);
        put(&mut img, m + text_at, &text[..first]);
        put(&mut img, m + 512, &text[first..]);
        let crc = lvm_crc(LVM_CRC_SEED, &img[m + 4..m + 512]);
        put(&mut img, m, &crc.to_le_bytes());
        img
    }

    /// VG metadata: 4 KiB extents from 1 MiB, 256 of them; `lvs` inserted as written.
    fn vg_text(lvs: &str) -> String {
        format!(
            "vg0 {{\nid = \"VGVGVG-0000-0000-0000-0000-0000-000000\"\nseqno = 7\nextent_size = 8\n\
             physical_volumes {{\npv0 {{\nid = \"{}\"\npe_start = 2048\npe_count = 256\n}}\n}}\n\
             logical_volumes {{\n{lvs}\n}}\n}}\ncontents = \"Text Format Volume Group\"\n",
            uuid_text(PV_UUID.as_bytes())
        )
    }

    const TWO_SEGMENTS: &str =
        "lv {\nid = \"x\"\nstatus = [\"READ\", \"VISIBLE\"]\nsegment_count = 2\n\
        segment2 {\nstart_extent = 2\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\n\
        stripes = [\"pv0\", 10]\n}\n\
        segment1 {\nstart_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\n\
        stripes = [\"pv0\", 100]\n}\n}\n\
        thin {\nid = \"y\"\nstatus = [\"VISIBLE\"]\nsegment1 {\nstart_extent = 0\n\
        extent_count = 1\ntype = \"thin\"\n}\n}\n\
        snap {\nid = \"z\"\nstatus = [\"VISIBLE\"]\nsegment1 {\nstart_extent = 0\n\
        extent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 50]\n}\n}\n\
        snapshot0 {\nid = \"w\"\nstatus = [\"READ\"]\nsegment1 {\nstart_extent = 0\n\
        extent_count = 4\ntype = \"snapshot\"\norigin = \"lv\"\ncow_store = \"snap\"\n}\n}";

    #[test]
    fn synthetic_pv_with_wrapped_metadata() {
        let text = vg_text(TWO_SEGMENTS);
        for at in [512, MDA_SIZE - 100] {
            let mut img = pv_image(text.as_bytes(), at);
            put(&mut img, (1 << 20) + 100 * 4096, b"XFSB");
            let src = xfs_format::SliceSource(img);
            let r = scan(&src, &PartitionTable::default());
            assert!(r.notes.is_empty(), "{:?}", r.notes);
            assert_eq!(r.pvs.len(), 1);
            assert_eq!(r.pvs[0].uuid, uuid_text(PV_UUID.as_bytes()));
            assert_eq!(r.pvs[0].label_sector, 1);
            let vg = &r.vgs[0];
            assert_eq!(
                (vg.name.as_str(), vg.seqno, vg.extent_size),
                ("vg0", 7, 4096)
            );
            assert_eq!(vg.pvs[0].found, Some(0));
            let lv = &vg.lvs[0];
            assert!(lv.linear && lv.has_xfs && lv.visible);
            assert_eq!(lv.size, 4 * 4096);
            // segment 1 (extents 100-101) first, then segment 2 (extents 10-11)
            assert_eq!(
                r.resolve("vg0/lv").unwrap(),
                [
                    ((1 << 20) + 100 * 4096, 8192),
                    ((1 << 20) + 10 * 4096, 8192)
                ]
            );
            assert!(
                matches!(r.resolve("vg0/thin"), Err(LvmError::Unsupported(m)) if m.contains("unsupported LV type") && m.contains("thin"))
            );
            assert!(matches!(r.resolve("vg0/none"), Err(LvmError::NotFound(_))));
            // the snapshot's store and the snapshot itself; the origin reads
            assert!(
                matches!(r.resolve("vg0/snap"), Err(LvmError::Unsupported(m)) if m.contains("copy-on-write store of vg0/snapshot0"))
            );
            assert!(
                matches!(r.resolve("vg0/snapshot0"), Err(LvmError::Unsupported(m)) if m.contains("snapshot"))
            );
            assert!(!vg.lvs[3].visible);
            assert!(matches!(r.resolve("vg0"), Err(LvmError::NotFound(_))));
        }
    }

    #[test]
    fn hostile_segments_are_refused() {
        for (seg, want) in [
            (
                "start_extent = 0\nextent_count = 300\nstripes = [\"pv0\", 0]",
                "runs past",
            ),
            (
                "start_extent = 0\nextent_count = 2\nstripes = [\"pv0\", 9223372036854775807]",
                "runs past",
            ),
            (
                "start_extent = 5\nextent_count = 2\nstripes = [\"pv0\", 0]",
                "do not follow",
            ),
            (
                "start_extent = 0\nextent_count = 2\nstripes = [\"pv9\", 0]",
                "unknown PV",
            ),
            (
                "start_extent = 0\nextent_count = 2\nstripes = []",
                "without a stripe",
            ),
        ] {
            let lv =
                format!("lv {{\nsegment1 {{\ntype = \"striped\"\nstripe_count = 1\n{seg}\n}}\n}}");
            let img = pv_image(vg_text(&lv).as_bytes(), 512);
            let r = scan(&xfs_format::SliceSource(img), &PartitionTable::default());
            let e = r.resolve("vg0/lv").unwrap_err().to_string();
            assert!(e.contains(want), "{seg}: {e}");
        }
    }

    #[test]
    fn bad_checksums_are_notes() {
        let text = vg_text(TWO_SEGMENTS);
        let mut img = pv_image(text.as_bytes(), 512);
        img[MDA_AT + 600] ^= 1; // text
        let r = scan(&xfs_format::SliceSource(img), &PartitionTable::default());
        assert_eq!(r.pvs.len(), 1);
        assert!(r.vgs.is_empty());
        assert!(r.notes[0].contains("fails its checksum"), "{:?}", r.notes);
        let mut img = pv_image(text.as_bytes(), 512);
        img[512 + 40] ^= 1; // pv_header
        let r = scan(&xfs_format::SliceSource(img), &PartitionTable::default());
        assert!(
            r.pvs.is_empty() && r.notes[0].contains("label"),
            "{:?}",
            r.notes
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "[a-z0-9 =\\[\\]{},\"#\\n\\\\-]{0,400}") {
            let _ = parse_metadata(&s);
        }

        /// Edited metadata text, checksums made right again: never a panic, and whatever
        /// resolves lies inside the image.
        #[test]
        fn mutated_metadata_never_panics(edits in proptest::collection::vec((0usize..2000, proptest::prelude::any::<u8>()), 0..12)) {
            let mut text = vg_text(TWO_SEGMENTS).into_bytes();
            for (at, b) in edits {
                let n = text.len();
                text[at % n] = b;
            }
            let img = pv_image(&text, MDA_SIZE - 300);
            let size = img.len() as u64;
            let r = scan(&xfs_format::SliceSource(img), &PartitionTable::default());
            for vg in &r.vgs {
                for lv in &vg.lvs {
                    if let Ok(pieces) = r.resolve(&format!("{}/{}", vg.name, lv.name)) {
                        for (s, l) in pieces {
                            proptest::prop_assert!(s + l <= size);
                        }
                    }
                }
            }
        }

        #[test]
        fn arbitrary_pv_bytes_never_panic(mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8192), sector in 0usize..4) {
            // a label at `sector`, the rest random
            if bytes.len() >= (sector + 1) * 512 {
                bytes[sector * 512..sector * 512 + 8].copy_from_slice(LABEL_ID);
            }
            let src = xfs_format::SliceSource(bytes);
            let _ = scan(&src, &PartitionTable::default());
        }
    }
}
