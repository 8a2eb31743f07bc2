//! Node directories (libxfs `xfs_dir2_node.c`): a da btree ([`crate::da_btree`]) of node
//! blocks over `leafn` blocks in the leaf space, plus free-index blocks
//! ([`super::free`]). [`leafn_blocks`] walks the tree with [`da_btree::walk`].

use serde::Serialize;

use super::{
    blkinfo_fields, da_hdr_or_empty, dir_hdr_size, empty_checks, parse_dir_block, render_db_fields,
    short_header, BlockCtx, DbField, DirBlock, DirBlockReader, DirChecks, DirFinding, DirGeo,
    EntriesOptions, NodeEntry, XFS_DA3_NODE_MAGIC, XFS_DA_NODE_MAXDEPTH,
};
use crate::da_btree::{
    self, hash_disorder, node_entries, DaVisit, DaVisitor, DaWalkFinding, NodeHdr,
};
use crate::fields::Field;
use crate::sb::Geometry;

/// A da-btree node block of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBlock {
    /// Logical directory block number.
    pub dblock: u32,
    /// The node header (`xfs_da_node_hdr` / `xfs_da3_node_hdr`).
    pub hdr: NodeHdr,
    /// Entries: `before` is the da block (file block) of the child, in the leaf space.
    pub btree: Vec<NodeEntry>,
    /// The header checks.
    pub checks: DirChecks,
    /// What is wrong with the block.
    pub findings: Vec<DirFinding>,
}

impl NodeBlock {
    /// Fields with one path per entry value (`nbtree[3].hashval`); xfs_db prints the array
    /// compactly instead, see [`NodeBlock::render_xfs_db`].
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = self.hdr_fields();
        for (i, e) in self.btree.iter().enumerate() {
            let p = format!("nbtree[{i}].");
            out.push(DbField::new(&p, Field::hex("hashval", e.hashval, 32)));
            out.push(DbField::new(&p, Field::dec("before", e.before, 32)));
        }
        out
    }

    fn hdr_fields(&self) -> Vec<DbField> {
        let mut out = blkinfo_fields(&self.hdr.info, "nhdr.info.", self.checks.crc);
        out.push(DbField::new(
            "nhdr.",
            Field::dec("count", self.hdr.count, 16),
        ));
        out.push(DbField::new(
            "nhdr.",
            Field::dec("level", self.hdr.level, 16),
        ));
        out
    }

    /// The block as `xfs_db -c 'dblock N' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        let mut s = render_db_fields(&self.hdr_fields());
        let rows = da_btree::node_rows(&self.btree);
        da_btree::struct_array(&mut s, "nbtree", &["hashval", "before"], &rows);
        s
    }
}

pub(crate) fn parse_node_block(buf: &[u8], ctx: &BlockCtx, magic: u16) -> NodeBlock {
    let v5 = magic == XFS_DA3_NODE_MAGIC;
    let hdr_len = dir_hdr_size(v5);
    let mut findings = Vec::new();
    let hdr = da_hdr_or_empty(NodeHdr::parse(buf, v5), magic, |h| &mut h.info);
    let mut blk = NodeBlock {
        dblock: ctx.dblock,
        hdr,
        btree: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if let Some(f) = short_header("node block header", buf, hdr_len) {
        blk.findings = vec![f];
        return blk;
    }
    let level = blk.hdr.level;
    if level == 0 || level >= XFS_DA_NODE_MAXDEPTH {
        findings.push(DirFinding::BadLevel { level });
    }
    let room = NodeHdr::max_entries(buf.len(), v5);
    let n = usize::from(blk.hdr.count);
    if n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "node entries",
            count: n as u64,
            max: room as u64,
        });
    }
    blk.btree = node_entries(buf, v5, n.min(room));
    for (index, hash) in hash_disorder(blk.btree.iter().map(|e| e.hashval)) {
        findings.push(DirFinding::HashOrder { index, hash });
    }
    blk.findings = findings;
    blk
}

/// What [`leafn_blocks`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeafnWalk {
    /// Directory blocks of the leafn blocks reached, in hash order.
    pub leaves: Vec<u32>,
    /// Directory blocks of the node blocks entered.
    pub nodes: Vec<u32>,
    /// Block findings (wrapped in [`DirFinding::InBlock`]) and walk findings.
    pub findings: Vec<DirFinding>,
}

struct LeafnVisitor<'a, R: ?Sized> {
    geo: &'a Geometry,
    dg: DirGeo,
    reader: &'a mut R,
    owner: Option<u64>,
    out: LeafnWalk,
}

impl<R: DirBlockReader + ?Sized> DaVisitor for LeafnVisitor<'_, R> {
    fn visit(&mut self, dablk: u32, _level: Option<u16>) -> DaVisit {
        let db = u32::try_from(self.dg.fsb_to_db(dablk.into())).unwrap_or(u32::MAX);
        let ctx = BlockCtx {
            dblock: db,
            daddr: self.reader.daddr(db),
            owner: self.owner,
        };
        let block = match self.reader.read_dir_block(db) {
            Ok(b) => parse_dir_block(&b, self.geo, &ctx),
            Err(e) => {
                self.out.findings.push(DirFinding::ReadFailed {
                    dblock: db,
                    error: e.to_string(),
                });
                return DaVisit::Stop;
            }
        };
        self.out
            .findings
            .extend(block.findings().iter().map(|f| DirFinding::InBlock {
                dblock: db,
                finding: Box::new(f.clone()),
            }));
        match block {
            DirBlock::Node(n) => {
                self.out.nodes.push(db);
                DaVisit::Node {
                    level: n.hdr.level,
                    entries: n.btree,
                }
            }
            DirBlock::Leaf(l) if !l.is_leaf1 => {
                self.out.leaves.push(db);
                DaVisit::Leaf {
                    last_hash: l.ents.last().map(|e| e.hashval),
                }
            }
            _ => DaVisit::Stop,
        }
    }

    fn report(&mut self, finding: DaWalkFinding) {
        self.out.findings.push(DirFinding::DaWalk(finding));
    }
}

/// Walks the da btree of a node directory from its root (the first block of the leaf
/// space) and lists its leafn blocks in hash order, checking each block as
/// [`parse_dir_block`] does and each node key against its child's last hash. At most
/// `opts.max_blocks` blocks are entered, each once, at most [`XFS_DA_NODE_MAXDEPTH`]
/// levels deep.
pub fn leafn_blocks<R: DirBlockReader + ?Sized>(
    geo: &Geometry,
    reader: &mut R,
    opts: EntriesOptions,
) -> LeafnWalk {
    let Some(dg) = DirGeo::new(geo) else {
        return LeafnWalk::default();
    };
    let root = u32::try_from(dg.db_to_fsb(dg.leaf_db)).unwrap_or(u32::MAX);
    let mut v = LeafnVisitor {
        geo,
        dg,
        reader,
        owner: opts.owner,
        out: LeafnWalk::default(),
    };
    let _ = da_btree::walk(root, opts.max_blocks, &mut v);
    v.out
}
