//! Bounds-checked integer reads from byte slices, shared by every decoder.
//!
//! `be_u32` and friends return `None` when the bytes are not there; `be32` and friends read
//! short input as zero, for callers that checked the length of the structure first.
//! `put_be32` and friends store a value, and store nothing when the field does not fit.

fn arr<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
}

macro_rules! readers {
    ($($checked:ident, $zero:ident: $t:ty, $conv:ident;)*) => {
        $(
            #[doc = concat!("The `", stringify!($t), "` at `off` (", stringify!($conv), "), `None` when `b` is too short.")]
            pub fn $checked(b: &[u8], off: usize) -> Option<$t> {
                arr(b, off).map(<$t>::$conv)
            }

            #[doc = concat!("The `", stringify!($t), "` at `off` (", stringify!($conv), "), 0 when `b` is too short.")]
            pub fn $zero(b: &[u8], off: usize) -> $t {
                $checked(b, off).unwrap_or(0)
            }
        )*
    };
}

readers! {
    be_u16, be16: u16, from_be_bytes;
    be_u32, be32: u32, from_be_bytes;
    be_u64, be64: u64, from_be_bytes;
    le_u16, le16: u16, from_le_bytes;
    le_u32, le32: u32, from_le_bytes;
    le_u64, le64: u64, from_le_bytes;
}

macro_rules! writers {
    ($($name:ident: $t:ty, $conv:ident;)*) => {
        $(
            #[doc = concat!("Stores `v` as a `", stringify!($t), "` at `off` (", stringify!($conv), "); nothing when `b` is too short.")]
            pub fn $name(b: &mut [u8], off: usize, v: $t) {
                if let Some(d) = off.checked_add(size_of::<$t>()).and_then(|end| b.get_mut(off..end)) {
                    d.copy_from_slice(&v.$conv());
                }
            }
        )*
    };
}

writers! {
    put_be16: u16, to_be_bytes;
    put_be32: u32, to_be_bytes;
    put_be64: u64, to_be_bytes;
    put_le32: u32, to_le_bytes;
}

/// 16 bytes (a uuid) at `off`, zeros when short.
pub fn uuid(b: &[u8], off: usize) -> [u8; 16] {
    arr(b, off).unwrap_or([0; 16])
}
