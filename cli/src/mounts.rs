//! Is the image live? The mounts of a block device (or of its partitions) and of the loop
//! devices backed by an image file, from `/proc/self/mountinfo` and `/sys`.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One mount of the filesystem under inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub point: String,
    /// Mounted read-write.
    pub rw: bool,
    /// The device mounted (`/dev/loop3`, `/dev/sdb1`).
    pub device: String,
}

/// `major:minor` of a `dev_t`, as mountinfo and /sys write it (glibc's encoding).
fn dev_pair(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

fn parse_pair(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let oct = b.get(i.saturating_add(1)..i.saturating_add(4));
        match oct {
            Some(d) if c == b'\\' && d.iter().all(|x| (b'0'..=b'7').contains(x)) => {
                let v = d.iter().fold(0u32, |acc, x| {
                    acc.saturating_mul(8)
                        .saturating_add(u32::from(x.saturating_sub(b'0')))
                });
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i = i.saturating_add(4);
            }
            _ => {
                out.push(c);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line of mountinfo: (major:minor, mount point, rw, source).
struct Line {
    dev: (u64, u64),
    point: String,
    rw: bool,
    source: String,
}

fn mountinfo() -> Vec<Line> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let f: Vec<&str> = pre.split(' ').collect();
            let dev = parse_pair(f.get(2)?)?;
            let point = unescape(f.get(4)?);
            let rw = f.get(5)?.split(',').any(|o| o == "rw");
            // After the separator: fstype, source, super options.
            let source = unescape(post.split(' ').nth(1).unwrap_or(""));
            Some(Line {
                dev,
                point,
                rw,
                source,
            })
        })
        .collect()
}

/// The block device `dev` and its partitions, as (major:minor, /dev name).
fn with_partitions(dev: (u64, u64)) -> Vec<((u64, u64), String)> {
    let sys = format!("/sys/dev/block/{}:{}", dev.0, dev.1);
    let name = fs::canonicalize(&sys)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut out = vec![(dev, format!("/dev/{name}"))];
    if let Ok(rd) = fs::read_dir(&sys) {
        for e in rd.flatten().take(4096) {
            let p = e.path();
            if !p.join("partition").exists() {
                continue;
            }
            if let Some(d) = fs::read_to_string(p.join("dev"))
                .ok()
                .and_then(|s| parse_pair(&s))
            {
                out.push((d, format!("/dev/{}", e.file_name().to_string_lossy())));
            }
        }
    }
    out
}

/// The loop devices whose backing file is the file `meta` describes.
fn loops_backed_by(meta: &fs::Metadata) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/sys/block") else {
        return out;
    };
    for e in rd.flatten().take(65536) {
        if !e.file_name().to_string_lossy().starts_with("loop") {
            continue;
        }
        let Ok(backing) = fs::read_to_string(e.path().join("loop/backing_file")) else {
            continue;
        };
        let backing = backing.trim_end_matches('\n');
        let same =
            fs::metadata(backing).is_ok_and(|b| b.dev() == meta.dev() && b.ino() == meta.ino());
        if !same {
            continue;
        }
        if let Some(d) = fs::read_to_string(e.path().join("dev"))
            .ok()
            .and_then(|s| parse_pair(&s))
        {
            out.push(d);
        }
    }
    out
}

/// Where the filesystem in `path` (a block device, or an image file behind a loop device) is
/// mounted now.
pub fn mounts_of(path: &Path) -> Vec<Mount> {
    let Ok(meta) = fs::metadata(path) else {
        return Vec::new();
    };
    let devs: Vec<((u64, u64), String)> =
        if std::os::unix::fs::FileTypeExt::is_block_device(&meta.file_type()) {
            with_partitions(dev_pair(meta.rdev()))
        } else if meta.is_file() {
            loops_backed_by(&meta)
                .into_iter()
                .flat_map(with_partitions)
                .collect()
        } else {
            Vec::new()
        };
    if devs.is_empty() {
        return Vec::new();
    }
    mountinfo()
        .into_iter()
        .filter_map(|l| {
            let (_, name) = devs.iter().find(|(d, _)| *d == l.dev)?;
            Some(Mount {
                point: l.point,
                rw: l.rw,
                device: if l.source.starts_with("/dev/") {
                    l.source
                } else {
                    name.clone()
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_numbers_and_escapes() {
        assert_eq!(dev_pair(0x0703), (7, 3));
        assert_eq!(dev_pair((259u64 << 8) | 5), (259, 5));
        assert_eq!(unescape(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape(r"/x\\y"), r"/x\\y");
    }
}
