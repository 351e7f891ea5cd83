//! Files and directories only the node's user may change: the TLS key, the self-signed
//! certificate's directory, the recordings' directory.
//!
//! A directory the node creates is `0700`, a key it writes `0600`. A directory it is given
//! (or finds) that group or others may write, or that another user owns, is refused, as is
//! a key file another user owns or group or others may write: another local user could have
//! planted it. On Unix only; elsewhere the checks pass.

use std::io;
use std::path::{Path, PathBuf};

/// The effective user id of this process (Linux: the owner of `/proc/self`); `None` where
/// it cannot be read without `unsafe` (then ownership is not checked, only modes).
#[cfg(unix)]
pub fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The effective user id of this process: none off Unix.
#[cfg(not(unix))]
pub fn current_uid() -> Option<u32> {
    None
}

/// The node's private state directory: `$XDG_STATE_HOME/rayo-node`, else
/// `$HOME/.local/state/rayo-node`, else (no home) `rayo-node-<uid>` under the temporary
/// directory, which [`ensure_private_dir`] then refuses if another user made it first.
pub fn default_state_dir() -> PathBuf {
    let absolute = |v: &str| {
        std::env::var_os(v)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(state) = absolute("XDG_STATE_HOME") {
        return state.join("rayo-node");
    }
    if let Some(home) = absolute("HOME") {
        return home.join(".local").join("state").join("rayo-node");
    }
    let user = current_uid()
        .map(|u| u.to_string())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "user".into());
    std::env::temp_dir().join(format!("rayo-node-{user}"))
}

fn problem(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{}: {what}", path.display()),
    )
}

/// Creates `dir` (and missing parents) `0700` if absent, then checks it as
/// [`check_private_dir`] does.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(|e| problem(dir, e))?;
    }
    check_private_dir(dir)
}

/// Refuses `dir` unless it is a directory owned by this user that group and others cannot
/// write.
pub fn check_private_dir(dir: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(dir).map_err(|e| problem(dir, e))?;
    if !meta.is_dir() {
        return Err(problem(dir, "not a directory"));
    }
    check_owner_and_mode(dir, &meta, false)
}

/// Refuses the key file at `key` unless this user owns it and group and others cannot write
/// it, and unless its directory is not writable by group or others (and is owned by this
/// user or by root).
pub fn check_key_file(key: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(key).map_err(|e| problem(key, e))?;
    check_owner_and_mode(key, &meta, false)?;
    let parent = match key.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let pmeta = std::fs::metadata(&parent).map_err(|e| problem(&parent, e))?;
    check_owner_and_mode(&parent, &pmeta, true)
}

#[cfg(unix)]
fn check_owner_and_mode(path: &Path, meta: &std::fs::Metadata, root_ok: bool) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(problem(
            path,
            format!("writable by group or others (mode {mode:04o}); refusing to use it"),
        ));
    }
    if let Some(me) = current_uid() {
        let owner = meta.uid();
        if owner != me && !(root_ok && owner == 0) {
            return Err(problem(
                path,
                format!("owned by uid {owner}, not by this user (uid {me}); refusing to use it"),
            ));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_and_mode(_: &Path, _: &std::fs::Metadata, _: bool) -> io::Result<()> {
    Ok(())
}

/// Creates (or truncates) the file at `path` for writing, `0600` when it is new.
pub fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}
