//! The gateway bench's smoke run under `cargo test`: `gateway --smoke` starts a node with an
//! SDK bot, then a gateway with the node behind it and the bot logged in to the gateway, has
//! sipp place 5 calls on each path and the bot send 300 disco#info (500/s) to an answered call on
//! each, and prints the figures. Speed is not asserted: only that every call and command
//! went through and the figures were printed.

#![allow(clippy::expect_used)]

#[test]
fn the_gateway_bench_smoke_run_prints_its_figures() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("--smoke")
        .output()
        .expect("the gateway bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "gateway --smoke failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for figure in [
        "calls/s without a failed call: direct 5",
        ", gateway 5",
        "disco#info at 500/s",
        "added by the gateway",
    ] {
        assert!(stdout.contains(figure), "no {figure:?} in:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("500/s: 300 sent at").count(),
        2,
        "a latency step on each path:\n{stdout}"
    );
}
