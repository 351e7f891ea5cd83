//! The load script's smoke run under `cargo test`: `load --smoke` starts a node and a bot
//! (as the full script does), has sipp place 5 calls at 5/s with audio both ways, and fails
//! unless every call succeeded in sipp and in the bot and the node saw RTP both ways.

#![allow(clippy::expect_used)]

#[test]
fn the_load_script_smoke_run_passes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_load"))
        .arg("--smoke")
        .output()
        .expect("the load script runs");
    assert!(
        out.status.success(),
        "load --smoke failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
