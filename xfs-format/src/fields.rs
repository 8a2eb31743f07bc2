//! A field model of decoded structures, rendered the way `xfs_db print` renders them.
//!
//! Every decoded header lists its fields as [`Field`]s: the C name xfs_db uses and a typed
//! [`Value`]. The same list renders as `name = value` lines that diff cleanly against
//! `xfs_db -r -c 'sb 0' -c print`, and as JSON.

use serde_json::{json, Map, Value as Json};

/// How a number is printed (xfs_db's `%u`, `%#x`, `%#o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Radix {
    /// Decimal (`%u`).
    Dec,
    /// Hexadecimal (`%#x`).
    Hex,
    /// Octal (`%#o`).
    Oct,
    /// Signed decimal (`%d`, `%lld`): the value is the two's complement of a `bits`-wide field.
    Signed,
}

/// xfs_db's treatment of "null" (all-ones) and zero values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Null {
    /// Print the number as it is.
    Plain,
    /// Print `null` for all-ones (NULLAGBLOCK, NULLFSINO, ...).
    Null,
    /// Like `Null`, and leave zero out entirely (`agblocknz`).
    NullSkipZero,
    /// Leave all-ones out entirely (`aginonn`, the AGI unlinked buckets).
    SkipNull,
    /// Leave zero out, print all-ones as a number (`dir2_data_offnz`, free block bests).
    SkipZero,
}

/// State of a stored checksum, as xfs_db reports it after `crc = 0x...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CrcState {
    /// The checksum matches.
    Correct,
    /// The checksum does not match.
    Bad,
    /// The structure carries no checksum (v4).
    Unchecked,
}

impl CrcState {
    /// The word xfs_db prints after the value (`correct`, `bad`, `unchecked`).
    pub fn as_str(self) -> &'static str {
        match self {
            CrcState::Correct => "correct",
            CrcState::Bad => "bad",
            CrcState::Unchecked => "unchecked",
        }
    }
}

/// One field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An unsigned number of `bits` width.
    Num {
        /// The number.
        value: u64,
        /// Width of the field in bits.
        bits: u32,
        /// How it is printed.
        radix: Radix,
        /// How all-ones and zero are printed.
        null: Null,
    },
    /// An array of numbers printed `i:v` from index `base`.
    Array {
        /// The elements.
        values: Vec<u64>,
        /// Width of each element in bits.
        bits: u32,
        /// How each element is printed.
        radix: Radix,
        /// How all-ones and zero elements are printed.
        null: Null,
        /// Index of the first element.
        base: u32,
    },
    /// A uuid, printed `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    Uuid([u8; 16]),
    /// A fixed-size character array (xfs_db `charns`).
    Chars(Vec<u8>),
    /// A stored checksum and whether it verified.
    Crc {
        /// Big-endian reading of the stored checksum.
        value: u32,
        /// Whether it verified.
        state: CrcState,
    },
    /// Text already formatted the way xfs_db prints it (dates, `2 (extents)`, signed
    /// numbers, `(empty)`).
    Text(String),
    /// An array of records, printed like xfs_db's `fp_sarray`: the name gets the index range,
    /// the value is `[col,col,..] ` followed by one `\ni:[v,v,..]` per record (records are
    /// separated by a space before the newline). `declared` is the element count the index
    /// range shows; xfs_db prints fewer records than that when they would run off the buffer.
    Records {
        /// Column names, printed once in the header.
        columns: &'static [&'static str],
        /// The records, one row of column values each.
        rows: Vec<Vec<u64>>,
        /// Index of the first record.
        base: u32,
        /// Records the structure claims (the index range printed).
        declared: usize,
    },
}

/// A named field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The xfs_db field name (`magicnum`, `core.mode`, `u3.bmx`...).
    pub name: &'static str,
    /// The value.
    pub value: Value,
}

impl Field {
    /// A decimal number `bits` wide (`%u`).
    pub fn dec(name: &'static str, value: impl Into<u64>, bits: u32) -> Field {
        Field::num(name, value.into(), bits, Radix::Dec, Null::Plain)
    }
    /// A hexadecimal number `bits` wide (`%#x`).
    pub fn hex(name: &'static str, value: impl Into<u64>, bits: u32) -> Field {
        Field::num(name, value.into(), bits, Radix::Hex, Null::Plain)
    }
    /// A decimal number that prints `null` when all ones.
    pub fn nullable(name: &'static str, value: impl Into<u64>, bits: u32) -> Field {
        Field::num(name, value.into(), bits, Radix::Dec, Null::Null)
    }
    /// A number with every rendering choice given.
    pub fn num(name: &'static str, value: u64, bits: u32, radix: Radix, null: Null) -> Field {
        Field {
            name,
            value: Value::Num {
                value,
                bits,
                radix,
                null,
            },
        }
    }
    /// An array of numbers `bits` wide, indexed from `base`.
    pub fn array(
        name: &'static str,
        values: Vec<u64>,
        bits: u32,
        radix: Radix,
        null: Null,
        base: u32,
    ) -> Field {
        Field {
            name,
            value: Value::Array {
                values,
                bits,
                radix,
                null,
                base,
            },
        }
    }
    /// A uuid.
    pub fn uuid(name: &'static str, u: [u8; 16]) -> Field {
        Field {
            name,
            value: Value::Uuid(u),
        }
    }
    /// A stored checksum (its big-endian reading, as xfs_db prints it) and its state.
    pub fn crc(name: &'static str, value: u32, state: CrcState) -> Field {
        Field {
            name,
            value: Value::Crc { value, state },
        }
    }
    /// A fixed-size character array.
    pub fn chars(name: &'static str, bytes: Vec<u8>) -> Field {
        Field {
            name,
            value: Value::Chars(bytes),
        }
    }
    /// Text already formatted as xfs_db prints it.
    pub fn text(name: &'static str, t: String) -> Field {
        Field {
            name,
            value: Value::Text(t),
        }
    }
}

fn all_ones(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits).wrapping_sub(1)
    }
}

fn fmt_num(v: u64, radix: Radix) -> String {
    // C's "%#x" and "%#o" print a bare 0 for zero.
    match (radix, v) {
        (_, 0) => "0".to_string(),
        (Radix::Dec, _) => v.to_string(),
        (Radix::Hex, _) => format!("{v:#x}"),
        (Radix::Signed, _) => (v as i64).to_string(),
        (Radix::Oct, _) => format!("0{v:o}"),
    }
}

/// xfs_db's `charns` quoting.
fn fmt_chars(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' | b'\'' | b'"' | b'?' => {
                s.push('\\');
                s.push(b as char);
            }
            0x21..=0x7e | b' ' => s.push(b as char),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x0c => s.push_str("\\f"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x0b => s.push_str("\\v"),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push('"');
    s
}

/// A uuid in its usual text form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn fmt_uuid(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    // 32 hex digits always; slicing on ASCII boundaries.
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// Sign-extends the low `bits` bits of `v`.
pub fn sign_extend(v: u64, bits: u32) -> i64 {
    let unused = 64u32.saturating_sub(bits.clamp(1, 64));
    // Move the field's sign bit to bit 63, then shift back arithmetically.
    (v.checked_shl(unused).unwrap_or(0) as i64)
        .checked_shr(unused)
        .unwrap_or(0)
}

/// Renders one value of an array or a scalar, `None` when xfs_db leaves it out.
fn render_elem(v: u64, bits: u32, radix: Radix, null: Null) -> Option<String> {
    let is_null = v == all_ones(bits);
    match null {
        Null::NullSkipZero | Null::SkipZero if v == 0 => None,
        Null::SkipNull if is_null => None,
        Null::Null | Null::NullSkipZero if is_null => Some("null".to_string()),
        _ if radix == Radix::Signed => Some(sign_extend(v, bits).to_string()),
        _ => Some(fmt_num(v, radix)),
    }
}

/// The elements of an array value as xfs_db prints them after `name[lo-hi] = `: `i:v`
/// (a bare `v` for a one-element array), each followed by a space unless its index is the
/// last, leaving out the elements `null` says to leave out.
pub fn render_elements(values: &[u64], bits: u32, radix: Radix, null: Null, base: u32) -> String {
    let count = values.len();
    let mut s = String::new();
    for (i, v) in values.iter().enumerate() {
        let Some(text) = render_elem(*v, bits, radix, null) else {
            continue;
        };
        if count > 1 {
            s.push_str(&format!("{}:", (base as usize).saturating_add(i)));
        }
        s.push_str(&text);
        if i.saturating_add(1) < count {
            s.push(' ');
        }
    }
    s
}

impl Field {
    /// The value part of a field as xfs_db prints it inside a structure array (`[a,b,c]`).
    pub fn render_value(&self) -> String {
        match &self.value {
            Value::Num {
                value,
                bits,
                radix,
                null,
            } => render_elem(*value, *bits, *radix, *null).unwrap_or_default(),
            _ => {
                let line = self.render_xfs_db();
                let prefix = format!("{} = ", self.name);
                line.strip_prefix(&prefix)
                    .map_or_else(|| line.clone(), str::to_string)
            }
        }
    }

    /// The line `xfs_db print` prints for this field (without the newline).
    pub fn render_xfs_db(&self) -> String {
        match &self.value {
            Value::Num { .. } => format!("{} = {}", self.name, self.render_value()),
            Value::Array {
                values,
                bits,
                radix,
                null,
                base,
            } => {
                let count = values.len();
                let hi = (*base as usize).saturating_add(count).saturating_sub(1);
                let elems = render_elements(values, *bits, *radix, *null, *base);
                if count > 1 {
                    format!("{}[{}-{}] = {elems}", self.name, base, hi)
                } else if *base != 0 {
                    format!("{}[{}] = {elems}", self.name, base)
                } else {
                    format!("{} = {elems}", self.name)
                }
            }
            Value::Uuid(u) => format!("{} = {}", self.name, fmt_uuid(u)),
            Value::Chars(c) => format!("{} = {}", self.name, fmt_chars(c)),
            Value::Crc { value, state } => {
                format!(
                    "{} = {} ({})",
                    self.name,
                    fmt_num(*value as u64, Radix::Hex),
                    state.as_str()
                )
            }
            Value::Text(t) => format!("{} = {}", self.name, t),
            Value::Records {
                columns,
                rows,
                base,
                declared,
            } => {
                let lo = *base as usize;
                let hi = lo.saturating_add(*declared).saturating_sub(1);
                let mut s = if hi != lo {
                    format!("{}[{}-{}] = [{}] ", self.name, lo, hi, columns.join(","))
                } else {
                    format!("{}[{}] = [{}] ", self.name, lo, columns.join(","))
                };
                for (i, row) in rows.iter().enumerate() {
                    let vals: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                    s.push_str(&format!("\n{}:[{}]", lo.saturating_add(i), vals.join(",")));
                    if i.saturating_add(1) < rows.len() {
                        s.push(' ');
                    }
                }
                s
            }
        }
    }

    /// The field as a JSON value: numbers as numbers (`null` for xfs_db's null), uuids and
    /// character arrays as strings, checksums as `{"value": .., "state": ..}`.
    pub fn to_json(&self) -> Json {
        let signed = matches!(
            self.value,
            Value::Num {
                radix: Radix::Signed,
                ..
            }
        );
        let num = |v: u64, bits: u32, null: Null| match null {
            Null::Plain if signed => json!(sign_extend(v, bits)),
            Null::Plain | Null::SkipZero => json!(v),
            _ if v == all_ones(bits) => Json::Null,
            _ => json!(v),
        };
        match &self.value {
            Value::Num {
                value, bits, null, ..
            } => num(*value, *bits, *null),
            Value::Array {
                values, bits, null, ..
            } => Json::Array(values.iter().map(|v| num(*v, *bits, *null)).collect()),
            Value::Uuid(u) => json!(fmt_uuid(u)),
            Value::Chars(c) => json!(String::from_utf8_lossy(c)),
            Value::Crc { value, state } => json!({"value": value, "state": state}),
            Value::Text(t) => json!(t),
            Value::Records { columns, rows, .. } => Json::Array(
                rows.iter()
                    .map(|row| {
                        let m: Map<String, Json> = columns
                            .iter()
                            .zip(row.iter())
                            .map(|(c, v)| ((*c).to_string(), json!(v)))
                            .collect();
                        Json::Object(m)
                    })
                    .collect(),
            ),
        }
    }
}

/// Renders a field list as `xfs_db print` does, one line per field.
pub fn render_xfs_db(fields: &[Field]) -> String {
    render_lines(fields, Field::render_xfs_db)
}

/// One line per item, as `line` renders it, each ending in a newline.
pub fn render_lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    let mut out = String::new();
    for it in items {
        out.push_str(&line(it));
        out.push('\n');
    }
    out
}

/// Renders a field list as one JSON object, in field order.
pub fn to_json(fields: &[Field]) -> Json {
    let mut m = Map::new();
    for f in fields {
        m.insert(f.name.to_string(), f.to_json());
    }
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_like_printf() {
        assert_eq!(
            Field::hex("versionnum", 0xb4a5u16, 16).render_xfs_db(),
            "versionnum = 0xb4a5"
        );
        assert_eq!(
            Field::hex("features_compat", 0u32, 32).render_xfs_db(),
            "features_compat = 0"
        );
        assert_eq!(
            Field::nullable("rbmino", u64::MAX, 64).render_xfs_db(),
            "rbmino = null"
        );
        assert_eq!(
            Field::nullable("rootino", 128u64, 64).render_xfs_db(),
            "rootino = 128"
        );
        let nz = Field::num("rmaproot", 0, 32, Radix::Dec, Null::NullSkipZero);
        assert_eq!(nz.render_xfs_db(), "rmaproot = ");
    }

    #[test]
    fn arrays_skip_and_space_like_xfs_db() {
        let null = u64::from(u32::MAX);
        let f = Field::array(
            "unlinked",
            vec![null, 7, null],
            32,
            Radix::Dec,
            Null::SkipNull,
            0,
        );
        assert_eq!(f.render_xfs_db(), "unlinked[0-2] = 1:7 ");
        let g = Field::array(
            "bno",
            vec![null, 5, 0, 6],
            32,
            Radix::Dec,
            Null::NullSkipZero,
            0,
        );
        assert_eq!(g.render_xfs_db(), "bno[0-3] = 0:null 1:5 3:6");
    }

    #[test]
    fn records_and_single_based_arrays() {
        let r = Field {
            name: "u3.bmx",
            value: Value::Records {
                columns: &["startoff", "startblock"],
                rows: vec![vec![0, 12], vec![4, 40]],
                base: 0,
                declared: 2,
            },
        };
        assert_eq!(
            r.render_xfs_db(),
            "u3.bmx[0-1] = [startoff,startblock] \n0:[0,12] \n1:[4,40]"
        );
        let p = Field::array("ptrs", vec![17], 64, Radix::Dec, Null::Plain, 1);
        assert_eq!(p.render_xfs_db(), "ptrs[1] = 17");
    }

    #[test]
    fn chars_and_uuid() {
        let f = Field::chars("fname", b"ab\0\"\n".to_vec());
        assert_eq!(f.render_xfs_db(), r#"fname = "ab\000\"\n""#);
        let u = [
            0x62, 0xdd, 0x6a, 0x47, 6, 0xe0, 0x47, 0x2d, 0x81, 0x7f, 0xf4, 0x33, 0x16, 0x1b, 0xba,
            0x37,
        ];
        assert_eq!(fmt_uuid(&u), "62dd6a47-06e0-472d-817f-f433161bba37");
    }
}
