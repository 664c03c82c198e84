//! The squashed view of an image: the final filesystem after every layer has
//! been applied, held in memory as a tree of metadata.
//!
//! Only the content of files a cataloger asked for ("captured" files) is kept;
//! every other file is known by its path, kind, size, mode and the layer that
//! last wrote it. Nothing is written to disk and nothing is executed.
//!
//! Symbolic links are resolved inside the image root with the semantics of a
//! `chroot`: an absolute target starts at the image root and `..` at the root
//! stays at the root, so a link can never lead onto the host.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::digest::Digest;

/// Position of a layer in the image, bottom layer first.
pub type LayerIndex = u16;

/// Maximum symbolic links followed while resolving one path (Linux's MAXSYMLINKS).
const MAX_SYMLINK_HOPS: usize = 40;

type NodeId = u32;

const ROOT: NodeId = 0;

/// The kind of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    Regular,
    Symlink(Box<str>),
    /// A device node, FIFO or socket. Never opened.
    Special,
}

/// One version of a captured file's content, with the layer that wrote it.
#[derive(Clone, Debug)]
pub struct FileVersion {
    pub layer: LayerIndex,
    pub content: Arc<[u8]>,
}

#[derive(Debug)]
struct Node {
    kind: FileKind,
    mode: u32,
    size: u64,
    layer: LayerIndex,
    children: Option<BTreeMap<Box<str>, NodeId>>,
    /// Captured content, oldest first; the last entry is the current content.
    versions: Vec<FileVersion>,
}

impl Node {
    fn directory(mode: u32, layer: LayerIndex) -> Self {
        Node {
            kind: FileKind::Directory,
            mode,
            size: 0,
            layer,
            children: Some(BTreeMap::new()),
            versions: Vec::new(),
        }
    }
}

/// Metadata of one path in the squashed filesystem.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// Absolute path inside the image, after symbolic links were resolved.
    pub path: String,
    pub kind: FileKind,
    pub mode: u32,
    pub size: u64,
    /// The layer that last wrote this path.
    pub layer: LayerIndex,
    /// Whether the content is held in memory (see [`Filesystem::read`]).
    pub captured: bool,
}

/// The content of a captured file.
#[derive(Clone, Debug)]
pub struct FileData {
    /// Absolute path inside the image, after symbolic links were resolved.
    pub path: String,
    pub content: Arc<[u8]>,
    /// The layer that last wrote this file.
    pub layer: LayerIndex,
}

/// The reason a path could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: too many levels of symbolic links")]
    SymlinkLoop { path: String },
    #[error("{path}: is not a regular file")]
    NotAFile { path: String },
    #[error(
        "{path}: content of {size} bytes was not kept in memory (not requested, or larger than the capture limit)"
    )]
    NotCaptured { path: String, size: u64 },
}

/// The result of resolving a path.
enum Resolved {
    Found {
        node: NodeId,
        path: String,
    },
    Missing,
    Loop,
    /// A symbolic link tried to leave the image root (only reported when
    /// resolving for a write; reads clamp at the root).
    Escape,
}

/// The squashed filesystem of an image.
#[derive(Debug)]
pub struct Filesystem {
    nodes: Vec<Node>,
    diff_ids: Vec<Digest>,
    captured_bytes: u64,
}

/// Splits a path into its components, dropping empty and `.` components.
fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// An error applying a layer entry to the tree.
#[derive(Debug)]
pub(crate) enum ApplyError {
    /// The entry reaches outside the image root, as the message describes.
    Escape(String),
    SymlinkLoop,
}

impl Filesystem {
    /// Creates an empty filesystem for an image whose layers have these diff_ids,
    /// bottom first. A plain directory source has one pseudo-layer.
    pub fn new(diff_ids: Vec<Digest>) -> Self {
        Filesystem {
            nodes: vec![Node::directory(0o755, 0)],
            diff_ids,
            captured_bytes: 0,
        }
    }

    /// Returns the diff_ids of the layers, bottom first.
    pub fn diff_ids(&self) -> &[Digest] {
        &self.diff_ids
    }

    /// Returns the diff_id of a layer, if the image has real layers.
    pub fn diff_id(&self, layer: LayerIndex) -> Option<&Digest> {
        self.diff_ids.get(usize::from(layer))
    }

    /// Bytes of file content held in memory.
    pub fn captured_bytes(&self) -> u64 {
        self.captured_bytes
    }

    /// Returns the metadata of `path`, following symbolic links (also in the
    /// last component). `None` when the path does not exist or loops.
    pub fn stat(&self, path: &str) -> Option<FileInfo> {
        match self.resolve(path, true, false) {
            Resolved::Found { node, path } => Some(self.info(node, path)),
            _ => None,
        }
    }

    /// Returns the metadata of `path` itself: a symbolic link in the last
    /// component is reported as a link.
    pub fn lstat(&self, path: &str) -> Option<FileInfo> {
        match self.resolve(path, false, false) {
            Resolved::Found { node, path } => Some(self.info(node, path)),
            _ => None,
        }
    }

    /// Reads a captured regular file, following symbolic links.
    /// `Ok(None)` means the path does not exist.
    pub fn read(&self, path: &str) -> Result<Option<FileData>, ReadError> {
        let (node, resolved) = match self.resolve(path, true, false) {
            Resolved::Found { node, path } => (node, path),
            Resolved::Missing | Resolved::Escape => return Ok(None),
            Resolved::Loop => {
                return Err(ReadError::SymlinkLoop {
                    path: path.to_owned(),
                });
            }
        };
        let node = &self.nodes[node as usize];
        if node.kind != FileKind::Regular {
            return Err(ReadError::NotAFile { path: resolved });
        }
        match node.versions.last() {
            Some(version) => Ok(Some(FileData {
                path: resolved,
                content: version.content.clone(),
                layer: node.layer,
            })),
            None if node.size == 0 => Ok(Some(FileData {
                path: resolved,
                content: Arc::from(&[][..]),
                layer: node.layer,
            })),
            None => Err(ReadError::NotCaptured {
                path: resolved,
                size: node.size,
            }),
        }
    }

    /// Every captured version of a file, oldest first, as successive layers
    /// wrote it. The history restarts when the file was deleted in between.
    pub fn history(&self, path: &str) -> Vec<FileVersion> {
        match self.resolve(path, true, false) {
            Resolved::Found { node, .. } => self.nodes[node as usize].versions.clone(),
            _ => Vec::new(),
        }
    }

    /// Lists a directory's entries by name, sorted, following symbolic links.
    /// `None` when the path is not a directory.
    pub fn list_dir(&self, path: &str) -> Option<Vec<FileInfo>> {
        let Resolved::Found { node, path } = self.resolve(path, true, false) else {
            return None;
        };
        let children = self.nodes[node as usize].children.as_ref()?;
        let base = if path == "/" { String::new() } else { path };
        Some(
            children
                .iter()
                .map(|(name, child)| self.info(*child, format!("{base}/{name}")))
                .collect(),
        )
    }

    /// Visits every path in the filesystem in sorted depth-first order, the
    /// root excluded. Symbolic links are reported, not followed.
    pub fn walk(&self, mut visit: impl FnMut(&FileInfo)) {
        let mut stack: Vec<(NodeId, String)> = vec![(ROOT, String::new())];
        while let Some((id, path)) = stack.pop() {
            if let Some(children) = &self.nodes[id as usize].children {
                for (name, child) in children.iter().rev() {
                    stack.push((*child, format!("{path}/{name}")));
                }
            }
            if id != ROOT {
                visit(&self.info(id, path));
            }
        }
    }

    /// Number of paths in the filesystem, the root excluded.
    pub fn len(&self) -> usize {
        let mut count = 0;
        self.walk(|_| count += 1);
        count
    }

    /// Returns whether the filesystem contains nothing but the root.
    pub fn is_empty(&self) -> bool {
        self.nodes[ROOT as usize]
            .children
            .as_ref()
            .is_none_or(|c| c.is_empty())
    }

    fn info(&self, id: NodeId, path: String) -> FileInfo {
        let node = &self.nodes[id as usize];
        FileInfo {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path
            },
            kind: node.kind.clone(),
            mode: node.mode,
            size: node.size,
            layer: node.layer,
            captured: !node.versions.is_empty(),
        }
    }

    /// Resolves `path` from the root. With `follow_last`, a symbolic link in
    /// the last component is followed too. With `strict`, a `..` that would
    /// climb above the root through a symbolic link is reported as an escape
    /// instead of being clamped at the root.
    fn resolve(&self, path: &str, follow_last: bool, strict: bool) -> Resolved {
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut stack: Vec<(NodeId, String)> = Vec::new();
        let mut hops = 0;

        while let Some(name) = pending.pop() {
            let current = stack.last().map_or(ROOT, |(id, _)| *id);
            if name == ".." {
                if stack.pop().is_none() && strict {
                    return Resolved::Escape;
                }
                continue;
            }
            let Some(&child) = self.nodes[current as usize]
                .children
                .as_ref()
                .and_then(|children| children.get(name.as_str()))
            else {
                return Resolved::Missing;
            };
            let is_last = pending.is_empty();
            match &self.nodes[child as usize].kind {
                FileKind::Symlink(target) if follow_last || !is_last => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Resolved::Loop;
                    }
                    if target.starts_with('/') {
                        stack.clear();
                    }
                    pending.extend(components(target).rev().map(str::to_owned));
                }
                FileKind::Directory => stack.push((child, name)),
                _ if is_last => stack.push((child, name)),
                // A file used as a directory: the path does not exist.
                _ => return Resolved::Missing,
            }
        }

        let node = stack.last().map_or(ROOT, |(id, _)| *id);
        Resolved::Found {
            node,
            path: join_path(&stack),
        }
    }

    /// Finds or creates the directory that will hold the last component of
    /// `path`, following symbolic links in the parent components. Returns the
    /// directory and the last component.
    fn parent_for_write<'p>(
        &mut self,
        path: &'p str,
        layer: LayerIndex,
    ) -> Result<Option<(NodeId, &'p str)>, ApplyError> {
        check_write_path(path)?;
        let Some((parent_path, name)) = path.rsplit_once('/') else {
            return Ok(Some((ROOT, path)));
        };
        let mut dir = ROOT;
        let mut walked = String::new();
        for component in components(parent_path) {
            walked.push('/');
            walked.push_str(component);
            let existing = self.nodes[dir as usize]
                .children
                .as_ref()
                .and_then(|children| children.get(component).copied());
            dir = match existing {
                Some(child) => match &self.nodes[child as usize].kind {
                    FileKind::Directory => child,
                    FileKind::Symlink(_) => match self.resolve(&walked, true, true) {
                        Resolved::Found { node, .. }
                            if self.nodes[node as usize].children.is_some() =>
                        {
                            node
                        }
                        Resolved::Found { .. } | Resolved::Missing => return Ok(None),
                        Resolved::Loop => return Err(ApplyError::SymlinkLoop),
                        Resolved::Escape => {
                            return Err(ApplyError::Escape(format!(
                                "is written through the symbolic link {walked}, which points above the image root"
                            )));
                        }
                    },
                    // A file in the way of a directory: the tar tool would
                    // replace it, so do the same.
                    _ => self.insert(dir, component, Node::directory(0o755, layer)),
                },
                None => self.insert(dir, component, Node::directory(0o755, layer)),
            };
        }
        Ok(Some((dir, name)))
    }

    fn insert(&mut self, dir: NodeId, name: &str, node: Node) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        if let Some(children) = self.nodes[dir as usize].children.as_mut() {
            children.insert(name.into(), id);
        }
        id
    }

    fn child(&self, dir: NodeId, name: &str) -> Option<NodeId> {
        self.nodes[dir as usize]
            .children
            .as_ref()?
            .get(name)
            .copied()
    }

    /// Removes `path` and everything under it (a `.wh.NAME` whiteout).
    /// A missing path is not an error: whiteouts in the lowest layer, or for
    /// names a lower layer never had, remove nothing.
    pub(crate) fn remove(&mut self, path: &str) -> Result<(), ApplyError> {
        let Some((dir, name)) = self.parent_for_write_existing(path)? else {
            return Ok(());
        };
        if let Some(children) = self.nodes[dir as usize].children.as_mut() {
            children.remove(name);
        }
        Ok(())
    }

    /// Removes every entry of the directory `path` (a `.wh..wh..opq` marker).
    pub(crate) fn clear_dir(&mut self, path: &str) -> Result<(), ApplyError> {
        let Some((dir, name)) = self.parent_for_write_existing(path)? else {
            return Ok(());
        };
        let target = if name.is_empty() {
            Some(dir)
        } else {
            self.child(dir, name)
        };
        if let Some(target) = target
            && let Some(children) = self.nodes[target as usize].children.as_mut()
        {
            children.clear();
        }
        Ok(())
    }

    /// Like `parent_for_write`, but creates nothing.
    fn parent_for_write_existing<'p>(
        &mut self,
        path: &'p str,
    ) -> Result<Option<(NodeId, &'p str)>, ApplyError> {
        check_write_path(path)?;
        let (parent_path, name) = path.rsplit_once('/').unwrap_or(("", path));
        if parent_path.is_empty() {
            return Ok(Some((ROOT, name)));
        }
        match self.resolve(parent_path, true, true) {
            Resolved::Found { node, .. } if self.nodes[node as usize].children.is_some() => {
                Ok(Some((node, name)))
            }
            Resolved::Found { .. } | Resolved::Missing => Ok(None),
            Resolved::Loop => Err(ApplyError::SymlinkLoop),
            Resolved::Escape => Err(ApplyError::Escape(format!(
                "is removed through a symbolic link in {parent_path}, which points above the image root"
            ))),
        }
    }

    /// Adds or replaces a directory, keeping the entries of an existing one.
    pub(crate) fn add_directory(
        &mut self,
        path: &str,
        mode: u32,
        layer: LayerIndex,
    ) -> Result<(), ApplyError> {
        let Some((dir, name)) = self.parent_for_write(path, layer)? else {
            return Ok(());
        };
        if name.is_empty() {
            return Ok(());
        }
        match self.child(dir, name) {
            Some(existing) if self.nodes[existing as usize].kind == FileKind::Directory => {
                let node = &mut self.nodes[existing as usize];
                node.mode = mode;
                node.layer = layer;
            }
            _ => {
                self.insert(dir, name, Node::directory(mode, layer));
            }
        }
        Ok(())
    }

    /// Adds or replaces a non-directory entry. A captured file keeps the
    /// versions an earlier layer wrote at the same path.
    pub(crate) fn add_entry(
        &mut self,
        path: &str,
        kind: FileKind,
        mode: u32,
        size: u64,
        layer: LayerIndex,
        content: Option<Arc<[u8]>>,
    ) -> Result<(), ApplyError> {
        let Some((dir, name)) = self.parent_for_write(path, layer)? else {
            return Ok(());
        };
        if name.is_empty() {
            return Ok(());
        }

        let mut versions = match self.child(dir, name) {
            Some(existing) if self.nodes[existing as usize].kind == FileKind::Regular => {
                std::mem::take(&mut self.nodes[existing as usize].versions)
            }
            _ => Vec::new(),
        };
        match content {
            Some(content) => {
                self.captured_bytes += content.len() as u64;
                versions.push(FileVersion { layer, content });
            }
            None => versions.clear(),
        }

        self.insert(
            dir,
            name,
            Node {
                kind,
                mode,
                size,
                layer,
                children: None,
                versions,
            },
        );
        Ok(())
    }

    /// Adds a hard link at `path` to the existing file `target` (both inside
    /// the image). Returns `false` when the target does not exist.
    pub(crate) fn add_hardlink(
        &mut self,
        path: &str,
        target: &str,
        layer: LayerIndex,
    ) -> Result<bool, ApplyError> {
        let (kind, mode, size, content) = match self.resolve(target, false, true) {
            Resolved::Found { node, .. } => {
                let node = &self.nodes[node as usize];
                if node.kind == FileKind::Directory {
                    return Ok(false);
                }
                (
                    node.kind.clone(),
                    node.mode,
                    node.size,
                    node.versions.last().map(|v| v.content.clone()),
                )
            }
            Resolved::Missing => return Ok(false),
            Resolved::Loop => return Err(ApplyError::SymlinkLoop),
            Resolved::Escape => {
                return Err(ApplyError::Escape(format!(
                    "is a hard link to {target}, which resolves above the image root"
                )));
            }
        };
        if let Some(content) = &content {
            // Shared, not copied: the Arc makes a hard link free.
            self.captured_bytes = self.captured_bytes.saturating_sub(content.len() as u64);
        }
        self.add_entry(path, kind, mode, size, layer, content)?;
        Ok(true)
    }
}

/// Rejects a write path with `..` components. Layer entries arrive
/// normalised, so this only guards the tree's own invariant that no entry
/// is named `.` or `..`.
fn check_write_path(path: &str) -> Result<(), ApplyError> {
    if path
        .split('/')
        .any(|component| component == ".." || component == ".")
    {
        return Err(ApplyError::Escape(format!(
            "path {path:?} is not normalised"
        )));
    }
    Ok(())
}

fn join_path(stack: &[(NodeId, String)]) -> String {
    if stack.is_empty() {
        return "/".to_owned();
    }
    let mut path = String::new();
    for (_, name) in stack {
        path.push('/');
        path.push_str(name);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(fs: &mut Filesystem, path: &str, content: &str, layer: LayerIndex) {
        let content: Arc<[u8]> = Arc::from(content.as_bytes());
        fs.add_entry(
            path,
            FileKind::Regular,
            0o644,
            content.len() as u64,
            layer,
            Some(content),
        )
        .unwrap();
    }

    fn link(fs: &mut Filesystem, path: &str, target: &str) {
        fs.add_entry(path, FileKind::Symlink(target.into()), 0o777, 0, 0, None)
            .unwrap();
    }

    fn text(fs: &Filesystem, path: &str) -> Option<String> {
        fs.read(path)
            .unwrap()
            .map(|data| String::from_utf8(data.content.to_vec()).unwrap())
    }

    #[test]
    fn relative_symlink_resolves() {
        let mut fs = Filesystem::new(vec![]);
        file(&mut fs, "usr/lib/os-release", "ID=debian", 0);
        link(&mut fs, "etc/os-release", "../usr/lib/os-release");
        assert_eq!(text(&fs, "/etc/os-release").as_deref(), Some("ID=debian"));
        assert_eq!(
            fs.read("/etc/os-release").unwrap().unwrap().path,
            "/usr/lib/os-release"
        );
    }

    #[test]
    fn absolute_symlink_stays_in_root() {
        let mut fs = Filesystem::new(vec![]);
        file(&mut fs, "etc/passwd", "root:x:0:0::/root:/bin/sh", 0);
        link(&mut fs, "a/b/up", "../../../../../../etc/passwd");
        link(&mut fs, "abs", "/etc/passwd");
        assert_eq!(
            text(&fs, "/a/b/up").as_deref(),
            Some("root:x:0:0::/root:/bin/sh")
        );
        assert_eq!(
            text(&fs, "/abs").as_deref(),
            Some("root:x:0:0::/root:/bin/sh")
        );
    }

    #[test]
    fn symlink_loop_is_an_error() {
        let mut fs = Filesystem::new(vec![]);
        link(&mut fs, "etc/os-release", "os-release2");
        link(&mut fs, "etc/os-release2", "os-release");
        assert!(matches!(
            fs.read("/etc/os-release"),
            Err(ReadError::SymlinkLoop { .. })
        ));
    }

    #[test]
    fn write_through_escaping_symlink_fails() {
        let mut fs = Filesystem::new(vec![]);
        link(&mut fs, "etc", "../../../../..");
        let content: Arc<[u8]> = Arc::from(&b"x"[..]);
        let result = fs.add_entry("etc/escape", FileKind::Regular, 0o644, 1, 1, Some(content));
        assert!(matches!(result, Err(ApplyError::Escape(_))));
    }

    #[test]
    fn write_through_inner_symlink_lands_in_target() {
        let mut fs = Filesystem::new(vec![]);
        fs.add_directory("usr/lib", 0o755, 0).unwrap();
        link(&mut fs, "lib", "usr/lib");
        file(&mut fs, "lib/apk/db/installed", "P:musl", 1);
        assert_eq!(
            text(&fs, "/usr/lib/apk/db/installed").as_deref(),
            Some("P:musl")
        );
    }

    #[test]
    fn history_keeps_versions_per_layer() {
        let mut fs = Filesystem::new(vec![]);
        file(&mut fs, "var/lib/dpkg/status", "one", 0);
        file(&mut fs, "var/lib/dpkg/status", "two", 2);
        let history = fs.history("/var/lib/dpkg/status");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].layer, 0);
        assert_eq!(history[1].layer, 2);
        assert_eq!(fs.stat("/var/lib/dpkg/status").unwrap().layer, 2);
    }

    #[test]
    fn remove_and_clear_dir() {
        let mut fs = Filesystem::new(vec![]);
        file(&mut fs, "etc/a", "a", 0);
        file(&mut fs, "etc/b", "b", 0);
        file(&mut fs, "opt/c", "c", 0);
        fs.remove("etc/a").unwrap();
        assert!(fs.stat("/etc/a").is_none());
        assert!(fs.stat("/etc/b").is_some());
        fs.clear_dir("opt").unwrap();
        assert!(fs.stat("/opt").is_some());
        assert!(fs.stat("/opt/c").is_none());
        fs.remove("missing/dir/x").unwrap();
    }

    #[test]
    fn walk_is_sorted() {
        let mut fs = Filesystem::new(vec![]);
        file(&mut fs, "b/x", "", 0);
        file(&mut fs, "a", "", 0);
        let mut paths = Vec::new();
        fs.walk(|info| paths.push(info.path.clone()));
        assert_eq!(paths, ["/a", "/b", "/b/x"]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Path components that exercise normalisation and link resolution.
    fn component() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "etc", "..", ".", "", ".wh.a", "lib"])
    }

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(component(), 1..5).prop_map(|parts| parts.join("/"))
    }

    #[derive(Debug, Clone)]
    enum Operation {
        File(String),
        Directory(String),
        Symlink(String, String),
        Hardlink(String, String),
        Remove(String),
        Clear(String),
    }

    fn operation() -> impl Strategy<Value = Operation> {
        prop_oneof![
            path().prop_map(Operation::File),
            path().prop_map(Operation::Directory),
            (path(), path()).prop_map(|(p, t)| Operation::Symlink(p, t)),
            (path(), path().prop_map(|t| format!("/{t}")))
                .prop_map(|(p, t)| Operation::Symlink(p, t)),
            (path(), path()).prop_map(|(p, t)| Operation::Hardlink(p, t)),
            path().prop_map(Operation::Remove),
            path().prop_map(Operation::Clear),
        ]
    }

    proptest! {
        /// Any sequence of layer operations leaves a tree whose walked paths
        /// are normalised, and every lookup terminates.
        #[test]
        fn operations_keep_tree_normalised(operations in prop::collection::vec(operation(), 1..40)) {
            let mut fs = Filesystem::new(Vec::new());
            for operation in &operations {
                // Inputs here skip the tar-level normalisation on purpose, so
                // errors are allowed; panics and loops are not.
                let _ = match operation {
                    Operation::File(p) => fs.add_entry(p, FileKind::Regular, 0o644, 1, 0, Some(Arc::from(&b"x"[..]))),
                    Operation::Directory(p) => fs.add_directory(p, 0o755, 0),
                    Operation::Symlink(p, t) => fs.add_entry(p, FileKind::Symlink(t.as_str().into()), 0o777, 0, 0, None),
                    Operation::Hardlink(p, t) => fs.add_hardlink(p, t, 0).map(|_| ()),
                    Operation::Remove(p) => fs.remove(p),
                    Operation::Clear(p) => fs.clear_dir(p),
                };
            }
            let mut paths = Vec::new();
            fs.walk(|info| paths.push(info.path.clone()));
            for path in &paths {
                prop_assert!(path.starts_with('/'));
                prop_assert!(!path.split('/').skip(1).any(|c| c.is_empty() || c == "." || c == ".."), "{path}");
                let _ = fs.read(path);
                let _ = fs.stat(path);
            }
        }
    }
}
