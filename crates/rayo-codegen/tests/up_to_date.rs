//! The committed generated code must be what the schemas generate now.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn generated_code_is_up_to_date() {
    let root = rayo_codegen::workspace_root();
    let files = rayo_codegen::generate(&root.join("xsd")).expect("the schemas generate");
    let dir = rayo_codegen::output_dir();
    let mut stale = Vec::new();
    for (name, text) in &files {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if &committed != text {
            stale.push(name.clone());
        }
    }
    let committed: Vec<String> = std::fs::read_dir(&dir)
        .expect("generated dir exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in committed {
        if !files.iter().any(|(n, _)| *n == name) {
            stale.push(format!("{name} (no longer generated)"));
        }
    }
    assert!(
        stale.is_empty(),
        "generated code is stale: {stale:?}; run `cargo run -p rayo-codegen` and commit"
    );
}

#[test]
fn every_schema_namespace_is_generated() {
    let root = rayo_codegen::workspace_root();
    let schemas = rayo_codegen::load(&root.join("xsd")).expect("the schemas load");
    assert_eq!(
        schemas.len(),
        11,
        "ten XEP-0327 schemas and the XEP-0354 one"
    );
}
