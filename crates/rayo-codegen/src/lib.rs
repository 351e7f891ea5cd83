//! Generates the stanza types of `rayo-proto` from the corrected schemas in `xsd/`.
//!
//! Each schema (one namespace) becomes one file in `crates/rayo-proto/src/generated/`, plus a
//! `mod.rs` listing them. The output is formatted with `rustfmt` and committed; the
//! `up_to_date` test regenerates it and fails when the committed files are stale.
//!
//! ```no_run
//! let files = rayo_codegen::generate(std::path::Path::new("xsd")).expect("schemas");
//! for (name, text) in files {
//!     println!("{name}: {} bytes", text.len());
//! }
//! ```

mod emit;
mod names;
pub mod schema;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A schema file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A schema is not well-formed XML.
    #[error("{file}: not well-formed: {message}")]
    Xml {
        /// The schema file.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A schema uses a construct the generator does not map to Rust.
    #[error("{file}: unsupported: {what}")]
    Unsupported {
        /// The schema file.
        file: String,
        /// The construct.
        what: String,
    },
    /// A reference names nothing in the loaded schemas.
    #[error("unresolved reference: {0}")]
    Unresolved(String),
    /// `rustfmt` could not be run or rejected the generated code.
    #[error("rustfmt: {0}")]
    Rustfmt(String),
}

/// Reads every `*.xsd` in `xsd_dir` and returns `(file name, Rust source)` pairs for the
/// `generated/` directory, sorted by name, `mod.rs` included.
pub fn generate(xsd_dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let schemas = load(xsd_dir)?;
    let all = emit::Schemas(&schemas);
    let mut files = Vec::new();
    let mut modules = String::from(
        "//! Types generated from the schemas in `xsd/` by rayo-codegen, one module per \
         namespace.\n//! Do not edit: change the schema and run `cargo run -p rayo-codegen`.\n\n",
    );
    for s in &schemas {
        let text = emit::module(&all, s)?;
        files.push((format!("{}.rs", s.module), rustfmt(&text)?));
        modules.push_str(&format!("pub mod {};\n", s.module));
    }
    files.push(("mod.rs".to_owned(), rustfmt(&modules)?));
    files.sort();
    Ok(files)
}

/// Loads and parses the schemas, sorted by file name.
pub fn load(xsd_dir: &Path) -> Result<Vec<schema::Schema>, Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(xsd_dir)
        .map_err(io(xsd_dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xsd"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        let file = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(schema::parse(&file, &text)?);
    }
    Ok(out)
}

/// Formats Rust source with the toolchain's `rustfmt`.
fn rustfmt(src: &str) -> Result<String, Error> {
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut child = Command::new(rustfmt)
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Rustfmt(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(src.as_bytes())
            .map_err(|e| Error::Rustfmt(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Rustfmt(e.to_string()))?;
    if !out.status.success() {
        return Err(Error::Rustfmt(format!(
            "{}\n--- input ---\n{src}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    String::from_utf8(out.stdout).map_err(|e| Error::Rustfmt(e.to_string()))
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the generated files live.
pub fn output_dir() -> PathBuf {
    workspace_root().join("crates/rayo-proto/src/generated")
}
