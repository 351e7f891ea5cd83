//! `cargo run -p rayo-codegen`: regenerates `crates/rayo-proto/src/generated/` from `xsd/`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let root = rayo_codegen::workspace_root();
    let files = match rayo_codegen::generate(&root.join("xsd")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rayo-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = rayo_codegen::output_dir();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("rayo-codegen: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, text) in files {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("rayo-codegen: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
