//! Expanding command-line paths into inputs.

use std::path::{Path, PathBuf};

use depeer_core::Timestamp;

use crate::IoError;

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPath {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Where to read it.
    pub path: InputPath,
    /// How to name it in records and errors (the path as found, `-` for stdin).
    pub display: String,
    /// Modification time of the file, when known.
    pub mtime: Option<Timestamp>,
    /// Size on disk (compressed), when known.
    pub size: Option<u64>,
    /// Whether it sits in a Maildir (`cur/` or `new/` of a directory that
    /// has `cur`, `new` and `tmp`): one message per file.
    pub in_maildir: bool,
}

impl Input {
    /// Opens the input as a raw byte stream (not yet decoded).
    pub fn open(&self) -> Result<Box<dyn std::io::Read + Send>, IoError> {
        match &self.path {
            InputPath::Stdin => Ok(Box::new(std::io::stdin())),
            InputPath::File(p) => std::fs::File::open(p)
                .map(|f| Box::new(f) as Box<dyn std::io::Read + Send>)
                .map_err(|source| IoError::Open {
                    path: self.display.clone(),
                    source,
                }),
        }
    }
}

fn file_input(path: &Path, in_maildir: bool) -> Result<Input, IoError> {
    let meta = std::fs::metadata(path).map_err(|source| IoError::Open {
        path: path.display().to_string(),
        source,
    })?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)));
    Ok(Input {
        path: InputPath::File(path.to_path_buf()),
        display: path.display().to_string(),
        mtime,
        size: Some(meta.len()),
        in_maildir,
    })
}

fn is_maildir(dir: &Path) -> bool {
    ["cur", "new", "tmp"].iter().all(|d| dir.join(d).is_dir())
}

/// Expands paths into inputs: `-` is stdin, a file is itself, a directory is
/// every regular file below it in name order (hidden files and Maildir
/// `tmp/` skipped, symlinks not followed). Errors (a missing path, an
/// unreadable directory) are returned beside the inputs so the caller can
/// report them and go on.
pub fn walk(paths: &[PathBuf]) -> (Vec<Input>, Vec<IoError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input {
                path: InputPath::Stdin,
                display: "-".into(),
                mtime: None,
                size: None,
                in_maildir: false,
            });
            continue;
        }
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => walk_dir(p, false, &mut inputs, &mut errors),
            Ok(_) => match file_input(p, false) {
                Ok(i) => inputs.push(i),
                Err(e) => errors.push(e),
            },
            Err(source) => errors.push(IoError::Open {
                path: p.display().to_string(),
                source,
            }),
        }
    }
    (inputs, errors)
}

fn walk_dir(dir: &Path, in_maildir: bool, inputs: &mut Vec<Input>, errors: &mut Vec<IoError>) {
    let maildir_here = is_maildir(dir);
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).collect(),
        Err(source) => {
            errors.push(IoError::Open {
                path: dir.display().to_string(),
                source,
            });
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if maildir_here && name == "tmp" {
                continue;
            }
            let child_in_maildir = maildir_here && (name == "cur" || name == "new");
            walk_dir(&path, in_maildir || child_in_maildir, inputs, errors);
        } else if ft.is_file() {
            match file_input(&path, in_maildir) {
                Ok(i) => inputs.push(i),
                Err(err) => errors.push(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_trees_and_maildirs_in_order() {
        let t = tempfile::tempdir().unwrap();
        let md = t.path().join("trap");
        for d in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(d)).unwrap();
        }
        std::fs::write(md.join("new/2"), "x").unwrap();
        std::fs::write(md.join("cur/1"), "x").unwrap();
        std::fs::write(md.join("tmp/partial"), "x").unwrap();
        std::fs::write(t.path().join("a.mbox"), "x").unwrap();
        std::fs::write(t.path().join(".hidden"), "x").unwrap();
        let (inputs, errors) = walk(&[t.path().to_path_buf(), t.path().join("missing")]);
        let names: Vec<_> = inputs
            .iter()
            .map(|i| {
                i.display
                    .trim_start_matches(&*t.path().display().to_string())
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["/a.mbox", "/trap/cur/1", "/trap/new/2"]);
        assert_eq!(
            inputs.iter().map(|i| i.in_maildir).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(errors.len(), 1);
    }
}
