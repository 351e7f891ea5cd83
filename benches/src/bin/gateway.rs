//! The gateway's bench (issue 14): what putting a gateway in front of a node costs, measured
//! in one run against a stand-alone node and against the same node behind a gateway.
//!
//! ```sh
//! cargo run --release -p rayo-benches --bin gateway             # the whole bench, ~3 min
//! cargo run --release -p rayo-benches --bin gateway -- --smoke  # a few calls (a test runs it)
//! cargo run --release -p rayo-benches --bin gateway -- --latency  # the command latency only
//! cargo run --release -p rayo-benches --bin gateway -- --calls    # the calls per second only
//! ```
//!
//! - Calls per second: for 3 s at each rate (50…2 000/s), sipp
//!   (`tests/sip/uac_node_hangs_up.xml`) places calls an SDK bot accepts, answers and hangs
//!   up at once; a rate passes when sipp saw every call succeed, the bot served every one,
//!   and they were done within 1 s of the planned 3 s (calls that pile up and finish late
//!   did not keep pace). It stops at the first rate that fails. Once straight to the node (the bot logged in
//!   to the node's c2s listener), once through the gateway (the node in cluster mode behind
//!   it, the bot logged in to the gateway). Printed: the highest rate without failure of
//!   each, and their ratio (goal ≥ 0.7×).
//! - Added latency per command: with one call up and answered, the bot sends disco#info to
//!   the call ([`rayo_client::Call::info`]: the gateway forwards it to the node holding the
//!   call, the node's router answers) paced at 1 000, 2 000, 5 000 and 10 000/s, three
//!   rounds of 2 s at each rate (the p50 and p99 printed are the medians of the rounds'),
//!   stopping after a rate with a failed command, many in flight at once (at most
//!   [`MAX_IN_FLIGHT`]), each timed from when it was queued to its answer. Printed per rate:
//!   the rate achieved, p50/p99 of each path and what the gateway adds. The goal (added
//!   p99 < 1 ms at 10 000 stanzas/s) is judged at 5 000 commands/s: each command is two
//!   stanzas through the gateway, the request inward and its answer outward. It counts
//!   only if both paths kept up (every command answered, ≥ 95 % of the rate sent, never
//!   held back by the in-flight bound, p50 under 10 ms). The highest rate both kept up
//!   with is printed too: at 10 000 commands/s bot, node and gateway together keep this
//!   2-core box ≈ 80 % busy, and what the gateway path adds there is mostly queueing for
//!   the cores.
//! - CPU: each runtime's threads are named (`rt-node`, `rt-gateway`, `rt-bot`) and their
//!   CPU read from `/proc/self/task/*/stat` around each step, printed per call and per
//!   command.
//!
//! Processes: the node, the gateway and the bot run in this process, each on a tokio runtime
//! of its own with as many worker threads as their binaries would have on this box (the
//! node one per core, the gateway its `threads` default, one, or
//! `RAYO_BENCH_GATEWAY_THREADS`; the bot 1), so none waits on another's scheduler; the
//! kernel shares the cores among their threads as it would among processes. sipp is a child process. This process'
//! orchestration is a fourth, idle runtime. The node, its configuration, the bot and sipp are
//! the same on both paths; the gateway path has the gateway's threads in addition, competing
//! for the same cores, as it would on one box.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayo_client::{Call, Client, Config as ClientConfig, Offer};
use rayo_e2e::gateway::{cluster_node, node_domain, TestGateway};
use rayo_e2e::{free_udp_ports, scenario, TempDir, TestNode, LOOPBACK};
use tokio::process::Command;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{mpsc, oneshot};

/// Calls per second through the gateway over straight to the node (the issue's goal).
const GOAL_RATIO: f64 = 0.7;
/// What the gateway may add to a command's p99 (the issue's goal), ms.
const GOAL_ADDED_P99_MS: f64 = 1.0;
/// Stanzas through the gateway per second at which the latency goal is judged.
const GOAL_STANZAS_PER_S: u32 = 10_000;
/// Stanzas crossing the gateway per command: the request inward, its answer outward.
const STANZAS_PER_COMMAND: u32 = 2;
/// The node's RTP ports: a range no other socket of the bench is bound in.
const NODE_RTP: (u16, u16) = rayo_e2e::BENCH_RTP;
/// Requests in flight at most during the latency run (the pacing loop waits below it).
const MAX_IN_FLIGHT: usize = 4_000;
/// How much longer than its planned duration a rate may take and still pass, s.
const PACE_SLACK_S: f64 = 1.0;
/// Above this p50 a latency step measures queueing, not latency: it did not keep up, ms.
const MAX_P50_MS: f64 = 10.0;
/// sipp's service for the short calls, and for the one call held during the latency run.
const SHORT: &str = "short";
const HELD: &str = "held";

/// What one run does.
struct Plan {
    rates: &'static [u32],
    rate_seconds: f64,
    /// Command rates (per second) tried one after the other on the same call, each for
    /// `command_seconds`; the escalation stops after the first rate with a failed command.
    command_rates: &'static [u32],
    command_seconds: f64,
    /// Rounds of `command_seconds` at each rate: the p50 and p99 printed are the medians of
    /// the rounds' (one stall of the box spoils one round, not the figure).
    command_rounds: usize,
    /// How long to wait between the calls and the commands: the node keeps each call's SIP
    /// transactions 32 s after it (RFC 3261 timers J, L), and their expiry would be counted
    /// in the commands' CPU and latency.
    settle_seconds: f64,
}

const FULL: Plan = Plan {
    rates: &[50, 100, 200, 400, 600, 800, 1000, 1200, 1500, 2000],
    rate_seconds: 3.0,
    command_rates: &[1_000, 2_000, 5_000, 10_000],
    command_seconds: 2.0,
    command_rounds: 3,
    settle_seconds: 33.0,
};

/// The calls per second only.
const CALLS: Plan = Plan {
    command_rates: &[],
    settle_seconds: 0.0,
    ..FULL
};

/// The command latency only (to profile the forwarding path alone).
const LATENCY: Plan = Plan {
    rates: &[],
    rate_seconds: 0.0,
    command_rates: FULL.command_rates,
    command_seconds: FULL.command_seconds,
    command_rounds: FULL.command_rounds,
    settle_seconds: 0.0,
};

const SMOKE: Plan = Plan {
    rates: &[5],
    rate_seconds: 1.0,
    command_rates: &[500],
    command_seconds: 0.6,
    command_rounds: 1,
    settle_seconds: 0.0,
};

/// A runtime whose threads are named `name` (so that their CPU can be told apart).
fn runtime(name: &str, threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match args.first().map(String::as_str) {
        None | Some("--full") => &FULL,
        Some("--smoke") => &SMOKE,
        Some("--latency") => &LATENCY,
        Some("--calls") => &CALLS,
        Some(other) => {
            eprintln!(
                "usage: gateway [--full | --smoke | --latency | --calls]   (unknown argument {other:?})"
            );
            std::process::exit(2);
        }
    };
    let threads = Threads {
        // The node's binary runs tokio's default runtime: a worker per core.
        node: std::thread::available_parallelism().map_or(1, |n| n.get()),
        // The gateway's default, unless the run compares another (`[gateway] threads`).
        gateway: std::env::var("RAYO_BENCH_GATEWAY_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(rayo_gateway::config::Gateway::default().threads),
        bot: 1,
    };
    let rts = Runtimes {
        node: runtime(NODE_THREADS, threads.node),
        gateway: runtime(GATEWAY_THREADS, threads.gateway),
        bot: runtime(BOT_THREADS, threads.bot),
        threads,
    };
    let main = runtime("rt-main", 1);
    let ok = main.block_on(run(plan, &rts));
    drop(main);
    drop(rts);
    if !ok {
        std::process::exit(1);
    }
}

const NODE_THREADS: &str = "rt-node";
const GATEWAY_THREADS: &str = "rt-gateway";
const BOT_THREADS: &str = "rt-bot";

/// CPU seconds (user + system) of this process' threads named `name`, as
/// `/proc/self/task/*/stat` counts them (threads that exited are no longer counted: the
/// workers live as long as their runtime).
fn cpu_of(name: &str, tck: f64) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // After the command name: state is field 3, utime 14 and stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        ticks += f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    }
    ticks as f64 / tck
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The CPU of the node, the gateway and the bot, seconds.
#[derive(Clone, Copy)]
struct Cpu {
    node: f64,
    gateway: f64,
    bot: f64,
}

impl Cpu {
    fn now() -> Cpu {
        let tck = clock_ticks();
        Cpu {
            node: cpu_of(NODE_THREADS, tck),
            gateway: cpu_of(GATEWAY_THREADS, tck),
            bot: cpu_of(BOT_THREADS, tck),
        }
    }

    /// What each used since `self` per item (a call, a command), µs, as text.
    fn per(&self, items: usize) -> String {
        let now = Cpu::now();
        let us = |then: f64, now: f64| (now - then) * 1e6 / items.max(1) as f64;
        format!(
            "node {:.0} µs, gateway {:.0} µs, bot {:.0} µs",
            us(self.node, now.node),
            us(self.gateway, now.gateway),
            us(self.bot, now.bot),
        )
    }
}

struct Runtimes {
    node: Runtime,
    gateway: Runtime,
    bot: Runtime,
    threads: Threads,
}

/// Worker threads of each runtime.
struct Threads {
    node: usize,
    gateway: usize,
    bot: usize,
}

// ---------------------------------------------------------------------------------------
// The node and the gateway, each on its runtime until told to stop.

/// Something running on another runtime, stopped by dropping (or sending on) `stop`.
struct Service {
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Service {
    async fn stop(mut self) {
        drop(self.stop.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.done).await;
    }
}

/// The node's settings on both paths: room for every call of the fastest rate.
fn tune_node(cfg: &mut rayo_server::config::Config) {
    cfg.rtp.first_port = NODE_RTP.0;
    cfg.rtp.last_port = NODE_RTP.1;
    cfg.limits.max_calls = 10_000;
    // Every call comes from sipp on 127.0.0.1: the per-source limits guard against one
    // hostile peer, not capacity.
    cfg.limits.max_calls_per_source = 0;
    cfg.sip.max_transactions = 200_000;
    cfg.sip.max_transactions_per_source = 200_000;
    cfg.routes[0].targets = vec!["bot@localhost".into()];
    if let Some(c) = &mut cfg.c2s {
        // One bot carries every call and 10 000 commands/s: over the default flood limit,
        // which guards against clients, not capacity.
        c.max_stanzas_per_second = 100_000.0;
    }
}

/// The gateway's settings: the bot's flood limit raised as the node's, and a gateway busy
/// at the fastest rate must not take its node for dead.
fn tune_gateway(c: &mut rayo_gateway::config::Config) {
    if let Some(c2s) = &mut c.c2s {
        c2s.max_stanzas_per_second = 100_000.0;
    }
    c.gateway.ping_interval = 5.0;
    c.gateway.ping_timeout = 10.0;
    c.gateway.max_pending_iqs = 100_000;
}

/// A stand-alone node; its SIP address and the bot's configuration.
async fn direct_node(rt: &Handle) -> (Service, String, ClientConfig) {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = rt.spawn(async move {
        let node = TestNode::start(tune_node).await;
        let cfg = node.client_config("bot");
        let _ = ready_tx.send((node.node.sip_addr().to_string(), cfg));
        let _ = stopped.await;
        node.node.shutdown_within(Duration::ZERO).await;
    });
    let (sip, cfg) = ready_rx.await.expect("the node starts");
    (
        Service {
            stop: Some(stop),
            done,
        },
        sip,
        cfg,
    )
}

/// A gateway with node 1 behind it, in rotation; the node's SIP address and the bot's
/// configuration (logged in to the gateway).
async fn gateway_and_node(
    node_rt: &Handle,
    gw_rt: &Handle,
) -> (Service, Service, String, ClientConfig) {
    let (listener_tx, listener_rx) = oneshot::channel();
    let (node_up_tx, node_up_rx) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (gw_stop, gw_stopped) = oneshot::channel::<()>();
    let gw_done = gw_rt.spawn(async move {
        let gw = TestGateway::start(tune_gateway).await;
        let _ = listener_tx.send(gw.gw.node_addr().expect("a node listener"));
        if node_up_rx.await.is_err() {
            return;
        }
        gw.wait_rotation(&[node_domain(1)]).await;
        let _ = ready_tx.send(gw.client_config("bot", "bench"));
        let _ = gw_stopped.await;
        gw.gw.shutdown_within(Duration::ZERO).await;
    });
    let listener = listener_rx.await.expect("the gateway starts");
    let (sip_tx, sip_rx) = oneshot::channel();
    let (node_stop, node_stopped) = oneshot::channel::<()>();
    let node_done = node_rt.spawn(async move {
        let node = TestNode::start(|cfg| {
            tune_node(cfg);
            cluster_node(cfg, 1, listener);
        })
        .await;
        assert!(
            node.node.component_connected(rayo_e2e::WAIT).await,
            "the node connects to the gateway"
        );
        let _ = sip_tx.send(node.node.sip_addr().to_string());
        let _ = node_stopped.await;
        node.node.shutdown_within(Duration::ZERO).await;
    });
    let sip = sip_rx.await.expect("the node starts");
    let _ = node_up_tx.send(());
    let cfg = ready_rx.await.expect("the node is in rotation");
    (
        Service {
            stop: Some(gw_stop),
            done: gw_done,
        },
        Service {
            stop: Some(node_stop),
            done: node_done,
        },
        sip,
        cfg,
    )
}

// ---------------------------------------------------------------------------------------
// The bot.

#[derive(Default)]
struct Counters {
    offers: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    offers: u64,
    ok: u64,
    failed: u64,
}

impl Counters {
    fn get(&self) -> Counts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            offers: g(&self.offers),
            ok: g(&self.ok),
            failed: g(&self.failed),
        }
    }
}

struct Bot {
    client: Client,
    counters: Arc<Counters>,
    /// Answered calls to [`HELD`], for the latency run.
    held: mpsc::Receiver<Call>,
    task: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Logs in on `rt`; takes every call: short ones are accepted, answered and hung up,
    /// held ones accepted, answered and handed over.
    async fn start(rt: &Handle, cfg: ClientConfig) -> Bot {
        let cfg = cfg.command_timeout(Duration::from_secs(30));
        let counters = Arc::new(Counters::default());
        let (held_tx, held) = mpsc::channel(4);
        let (ready_tx, ready_rx) = oneshot::channel();
        let n = counters.clone();
        let task = rt.spawn(async move {
            let (client, mut offers) = Client::connect(cfg).await.expect("the bot logs in");
            client.set_available().expect("presence");
            client.ping().await.expect("its server answers pings");
            let _ = ready_tx.send(client);
            // Ends when the client is closed (or the stream drops for good).
            while let Some(offer) = offers.next().await {
                let (n, held_tx) = (n.clone(), held_tx.clone());
                tokio::spawn(async move {
                    if offer.to.contains(HELD) {
                        let call = offer.call;
                        if call.accept([]).await.is_ok() && call.answer([]).await.is_ok() {
                            let _ = held_tx.send(call).await;
                        }
                        return;
                    }
                    n.offers.fetch_add(1, Ordering::Relaxed);
                    match serve(offer).await {
                        Ok(()) => n.ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            if n.failed.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("  bot: call failed: {e}");
                            }
                            0
                        }
                    };
                });
            }
        });
        let client = tokio::time::timeout(rayo_e2e::WAIT, ready_rx)
            .await
            .expect("the bot logs in in time")
            .expect("the bot logs in");
        Bot {
            client,
            counters,
            held,
            task,
        }
    }

    /// Waits until every offered call is served (or `limit` passes); the counts then.
    async fn drained(&self, limit: Duration) -> Counts {
        let until = Instant::now() + limit;
        loop {
            let c = self.counters.get();
            if c.offers == c.ok + c.failed || Instant::now() >= until {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.client.close();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// Accepts, answers and hangs up.
async fn serve(offer: Offer) -> Result<(), String> {
    let call = offer.call;
    call.accept([]).await.map_err(|e| format!("accept: {e}"))?;
    call.answer([]).await.map_err(|e| format!("answer: {e}"))?;
    call.hangup([]).await.map_err(|e| format!("hangup: {e}"))
}

// ---------------------------------------------------------------------------------------
// sipp.

/// `calls` calls at `rate`/s to `service` at `target`; whether sipp saw every one succeed,
/// and the start of its stderr when not.
fn sipp(
    target: &str,
    service: &str,
    rate: u32,
    calls: u64,
    dir: &TempDir,
) -> tokio::process::Child {
    let port = free_udp_ports(1);
    let media = free_udp_ports(4);
    let mut cmd = Command::new("sipp");
    cmd.arg("-sf").arg(scenario("uac_node_hangs_up.xml"));
    cmd.args(["-i", LOOPBACK, "-mi", LOOPBACK, "-nostdin"]);
    cmd.args(["-p", &port.to_string(), "-mp", &media.to_string()]);
    cmd.args(["-s", service, "-m", &calls.to_string()]);
    cmd.args(["-r", &rate.to_string(), "-rp", "1000", "-l", "100000"]);
    cmd.args([
        "-recv_timeout",
        "60000",
        "-timeout",
        "120",
        "-timeout_error",
    ]);
    cmd.args(["-max_socket", "60000"]);
    cmd.arg(target)
        .current_dir(&dir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.spawn()
        .expect("sipp starts (apt-get install -y sip-tester)")
}

/// Waits for sipp (at most `limit`): whether it exited 0, and its stderr's last line.
async fn sipp_done(child: tokio::process::Child, limit: Duration) -> (bool, String) {
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
        ),
        Ok(Err(e)) => (false, format!("sipp: {e}")),
        // Dropping the future killed it (`kill_on_drop`).
        Err(_) => (false, "sipp did not finish in time".into()),
    }
}

// ---------------------------------------------------------------------------------------
// The measurements.

/// Phase 1 on one path: the highest rate without a failed call (0: none).
/// Waits out the calls' SIP transactions before the commands are measured.
async fn settle(plan: &Plan) {
    if plan.settle_seconds > 0.0 && !plan.rates.is_empty() {
        println!(
            "  (waiting {} s for the calls' SIP transactions to expire)",
            plan.settle_seconds
        );
        tokio::time::sleep(Duration::from_secs_f64(plan.settle_seconds)).await;
    }
}

async fn calls_per_second(plan: &Plan, path: &str, sip: &str, bot: &Bot, dir: &TempDir) -> u32 {
    let mut best = 0;
    for &rate in plan.rates {
        let calls = (f64::from(rate) * plan.rate_seconds).round() as u64;
        let before = bot.counters.get();
        let cpu = Cpu::now();
        let t0 = Instant::now();
        let child = sipp(sip, SHORT, rate, calls, dir);
        let (sipp_ok, why) = sipp_done(child, Duration::from_secs(180)).await;
        let wall = t0.elapsed().as_secs_f64();
        let after = bot.drained(Duration::from_secs(30)).await;
        let cpu = cpu.per(calls as usize);
        let (ok, failed) = (after.ok - before.ok, after.failed - before.failed);
        // Calls that pile up and finish late did not keep pace with the rate.
        let paced = wall <= plan.rate_seconds + PACE_SLACK_S;
        let passed = sipp_ok && ok == calls && failed == 0 && paced;
        println!(
            "  {path:<8} {rate:>5}/s  {calls:>5} calls in {wall:>5.2} s  sipp {}  bot {ok} served, {failed} failed  {}  CPU per call: {cpu}{}",
            if sipp_ok { "ok  " } else { "FAIL" },
            if passed { "ok" } else { "FAIL " },
            if !sipp_ok {
                format!("  ({why})")
            } else if !paced {
                format!("  (more than {PACE_SLACK_S} s late)")
            } else {
                String::new()
            },
        );
        if !passed {
            break;
        }
        best = rate;
    }
    best
}

/// What the latency run measured on one path.
struct Latency {
    /// The rate asked for.
    rate: u32,
    sent: usize,
    answered: usize,
    errors: usize,
    first_error: Option<String>,
    /// Commands sent per second over the sending window.
    achieved: f64,
    peak_in_flight: usize,
    p50_ms: f64,
    p99_ms: f64,
    /// Each round's p99, when there were several.
    round_p99s: Vec<f64>,
}

/// Sends `n` disco#info requests to `call` at `rate`/s, at most [`MAX_IN_FLIGHT`] at once,
/// and times each from when it was queued to its answer.
async fn paced_info(call: Arc<Call>, rate: u32, n: usize) -> Latency {
    let mut set = tokio::task::JoinSet::new();
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    let (mut errors, mut first_error) = (0, None);
    let mut record =
        |r: Result<Result<Duration, rayo_client::Error>, tokio::task::JoinError>| match r {
            Ok(Ok(d)) => times.push(d),
            Ok(Err(e)) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        };
    let t0 = Instant::now();
    // However slow the answers, the sending stops by then.
    let give_up = t0 + Duration::from_secs_f64(4.0 * n as f64 / f64::from(rate) + 30.0);
    let (mut sent, mut peak) = (0usize, 0usize);
    while sent < n && Instant::now() < give_up {
        let due = ((t0.elapsed().as_secs_f64() * f64::from(rate)) as usize + 1).min(n);
        while sent < due && set.len() < MAX_IN_FLIGHT {
            let (c, at) = (call.clone(), Instant::now());
            set.spawn(async move { c.info().await.map(|_| at.elapsed()) });
            sent += 1;
        }
        peak = peak.max(set.len());
        while let Some(r) = set.try_join_next() {
            record(r);
        }
        if set.len() >= MAX_IN_FLIGHT {
            if let Some(r) = set.join_next().await {
                record(r);
            }
        } else if sent < n {
            // Tokio's timer ticks each millisecond: 10 requests a tick at 10 000/s.
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    let window = t0.elapsed().as_secs_f64();
    // Every request ends by the client's command timeout.
    while let Some(r) = set.join_next().await {
        record(r);
    }
    times.sort_unstable();
    let pct = |p: usize| {
        times
            .get((times.len() * p / 100).min(times.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Latency {
        rate,
        sent,
        answered: times.len(),
        errors,
        first_error,
        achieved: sent as f64 / window,
        peak_in_flight: peak,
        p50_ms: pct(50),
        p99_ms: pct(99),
        round_p99s: Vec::new(),
    }
}

impl Latency {
    /// The rounds of one step as one: counts summed, the slowest sending rate and the
    /// highest in-flight peak, the median p50 and p99.
    fn median_of(rounds: Vec<Latency>) -> Latency {
        let median = |f: &dyn Fn(&Latency) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let (p50_ms, p99_ms) = (median(&|l| l.p50_ms), median(&|l| l.p99_ms));
        Latency {
            rate: rounds.first().map_or(0, |l| l.rate),
            sent: rounds.iter().map(|l| l.sent).sum(),
            answered: rounds.iter().map(|l| l.answered).sum(),
            errors: rounds.iter().map(|l| l.errors).sum(),
            first_error: rounds.iter().find_map(|l| l.first_error.clone()),
            achieved: rounds
                .iter()
                .map(|l| l.achieved)
                .fold(f64::INFINITY, f64::min),
            peak_in_flight: rounds.iter().map(|l| l.peak_in_flight).max().unwrap_or(0),
            p50_ms,
            p99_ms,
            round_p99s: if rounds.len() > 1 {
                rounds.iter().map(|l| l.p99_ms).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The rounds' p99s, printed after the median.
    fn spread(&self) -> String {
        if self.round_p99s.is_empty() {
            return String::new();
        }
        let each: Vec<String> = self.round_p99s.iter().map(|p| format!("{p:.3}")).collect();
        format!(" (the rounds' p99s {} ms)", each.join(", "))
    }

    /// Whether the path kept up: every command answered, sent at (nearly) the rate asked,
    /// never held back by the in-flight bound, and a p50 under [`MAX_P50_MS`].
    fn kept_up(&self, n: usize) -> bool {
        self.sent == n
            && self.answered == n
            && self.errors == 0
            && self.achieved >= 0.95 * f64::from(self.rate)
            && self.peak_in_flight < MAX_IN_FLIGHT
            && self.p50_ms < MAX_P50_MS
    }
}

/// Phase 2 on one path: one held call, disco#info to it at each rate, then hang up.
async fn latency(
    plan: &Plan,
    path: &str,
    sip: &str,
    bot: &mut Bot,
    rt: &Handle,
    dir: &TempDir,
) -> Vec<Latency> {
    if plan.command_rates.is_empty() {
        return Vec::new();
    }
    let child = sipp(sip, HELD, 1, 1, dir);
    let call = tokio::time::timeout(rayo_e2e::WAIT, bot.held.recv())
        .await
        .expect("the held call is offered in time")
        .expect("the bot runs");
    let features = call.info().await.expect("the call answers disco#info");
    assert!(
        features.iter().any(|f| f == rayo_client::proto::ns::RAYO),
        "{path}: the call's features {features:?}"
    );
    let call = Arc::new(call);
    let mut rows = Vec::new();
    for &rate in plan.command_rates {
        let n = commands(plan, rate);
        let cpu = Cpu::now();
        let mut rounds = Vec::with_capacity(plan.command_rounds);
        for _ in 0..plan.command_rounds.max(1) {
            let c = call.clone();
            let round = rt
                .spawn(async move { paced_info(c, rate, n).await })
                .await
                .expect("the latency run");
            let failed = round.errors > 0;
            rounds.push(round);
            if failed {
                break;
            }
        }
        let lat = Latency::median_of(rounds);
        let n = total_commands(plan, rate);
        let cpu = cpu.per(n);
        println!(
            "  {path:<8} {rate:>6}/s: {} sent at {:.0}/s, {} answered, {} failed{}; at most {} in flight; p50 {:.3} ms, p99 {:.3} ms{}; CPU per command: {cpu}{}",
            lat.sent,
            lat.achieved,
            lat.answered,
            lat.errors,
            lat.first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            lat.peak_in_flight,
            lat.p50_ms,
            lat.p99_ms,
            lat.spread(),
            if lat.kept_up(n) { "" } else { "  (did not keep up)" },
        );
        let failed = lat.errors > 0;
        rows.push(lat);
        if failed {
            break;
        }
    }
    if let Err(e) = call.hangup([]).await {
        println!("  {path}: the held call's hangup failed: {e}");
    }
    let (sipp_ok, why) = sipp_done(child, Duration::from_secs(10)).await;
    if !sipp_ok {
        println!("  {path}: sipp's held call failed: {why}");
    }
    rows
}

/// How many commands a round of a latency step sends at `rate`.
fn commands(plan: &Plan, rate: u32) -> usize {
    (f64::from(rate) * plan.command_seconds).round() as usize
}

/// How many commands a latency step sends at `rate`, all its rounds together.
fn total_commands(plan: &Plan, rate: u32) -> usize {
    commands(plan, rate) * plan.command_rounds.max(1)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Both paths, one after the other; whether some rate passed on each and every command was
/// answered (not whether the goals were met, nor how fast: the smoke run is a debug build).
async fn run(plan: &Plan, rts: &Runtimes) -> bool {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "rayo gateway bench: {cpus} CPUs, load average {} at start; node, gateway and bot in this process on runtimes of their own ({}, {} and {} worker threads), sipp a child",
        loadavg(),
        rts.threads.node,
        rts.threads.gateway,
        rts.threads.bot,
    );
    let dir = TempDir::new("gateway-bench");
    let started = Instant::now();

    if !plan.rates.is_empty() {
        println!(
            "\ncalls per second (accept, answer, hang up), {} s per rate",
            plan.rate_seconds
        );
    }
    let (node, sip, cfg) = direct_node(rts.node.handle()).await;
    let mut bot = Bot::start(rts.bot.handle(), cfg).await;
    let direct_cps = calls_per_second(plan, "direct", &sip, &bot, &dir).await;
    settle(plan).await;
    if !plan.command_rates.is_empty() {
        println!("\ncommand latency: disco#info to an answered call, paced");
    }
    let direct_lat = latency(plan, "direct", &sip, &mut bot, rts.bot.handle(), &dir).await;
    bot.stop().await;
    node.stop().await;

    println!("\nthrough the gateway");
    let (gw, node, sip, cfg) = gateway_and_node(rts.node.handle(), rts.gateway.handle()).await;
    let mut bot = Bot::start(rts.bot.handle(), cfg).await;
    let gw_cps = calls_per_second(plan, "gateway", &sip, &bot, &dir).await;
    settle(plan).await;
    let gw_lat = latency(plan, "gateway", &sip, &mut bot, rts.bot.handle(), &dir).await;
    bot.stop().await;
    node.stop().await;
    gw.stop().await;

    let ratio = if direct_cps > 0 {
        f64::from(gw_cps) / f64::from(direct_cps)
    } else {
        f64::NAN
    };
    let top = plan.rates.last().copied().unwrap_or(0);
    let capped = |r: u32| if r == top { " (the highest tried)" } else { "" };
    println!(
        "\nsummary ({:.0} s, load average {} at the end)",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    if !plan.rates.is_empty() {
        println!(
            "  calls/s without a failed call: direct {direct_cps}{}, gateway {gw_cps}{}; gateway/direct = {ratio:.2}× (goal ≥ {GOAL_RATIO}×: {})",
            capped(direct_cps),
            capped(gw_cps),
            if ratio >= GOAL_RATIO { "met" } else { "NOT met" }
        );
    }
    // The added latency at each rate; the goal is judged at the rate of
    // GOAL_STANZAS_PER_S, if both paths kept up there.
    let (mut judged, mut highest) = (None, None);
    for (d, g) in direct_lat.iter().zip(&gw_lat) {
        let n = total_commands(plan, d.rate);
        let both = d.kept_up(n) && g.kept_up(n);
        println!(
            "  disco#info at {}/s ({} stanzas/s through the gateway; sent {:.0} / {:.0}/s): p50 {:.3} / {:.3} ms, p99 {:.3} / {:.3} ms (direct / gateway); added p50 {:.3} ms, p99 {:.3} ms{}",
            d.rate,
            d.rate * STANZAS_PER_COMMAND,
            d.achieved,
            g.achieved,
            d.p50_ms,
            g.p50_ms,
            d.p99_ms,
            g.p99_ms,
            g.p50_ms - d.p50_ms,
            g.p99_ms - d.p99_ms,
            if both { "" } else { "  (a path did not keep up)" }
        );
        let added = (d.rate, g.p50_ms - d.p50_ms, g.p99_ms - d.p99_ms);
        if both {
            highest = Some(added);
        }
        if d.rate * STANZAS_PER_COMMAND == GOAL_STANZAS_PER_S {
            judged = Some((added, both));
        }
    }
    if let Some((rate, add50, add99)) = highest {
        println!(
            "  added by the gateway at {rate}/s, the highest rate both paths kept up with: p50 {add50:.3} ms, p99 {add99:.3} ms"
        );
    }
    let goal_rate = GOAL_STANZAS_PER_S / STANZAS_PER_COMMAND;
    match judged {
        Some(((_, add50, add99), true)) => println!(
            "  added by the gateway at {GOAL_STANZAS_PER_S} stanzas/s ({goal_rate} commands/s): p50 {add50:.3} ms, p99 {add99:.3} ms (goal p99 < {GOAL_ADDED_P99_MS} ms: {})",
            if add99 < GOAL_ADDED_P99_MS { "met" } else { "NOT met" }
        ),
        Some((_, false)) => println!(
            "  added by the gateway at {GOAL_STANZAS_PER_S} stanzas/s ({goal_rate} commands/s): a path did not keep up (goal: NOT met)"
        ),
        None if plan.command_rates.contains(&goal_rate) => println!(
            "  added by the gateway at {GOAL_STANZAS_PER_S} stanzas/s ({goal_rate} commands/s): not reached (a lower rate had a failed command; goal: NOT met)"
        ),
        None if plan.command_rates.is_empty() => {}
        None => println!(
            "  added by the gateway at {GOAL_STANZAS_PER_S} stanzas/s: not measured ({goal_rate} commands/s is not among this run's rates)"
        ),
    }
    let every_answered = |rows: &[Latency]| {
        rows.len() == plan.command_rates.len()
            && rows
                .iter()
                .all(|l| l.errors == 0 && l.answered == total_commands(plan, l.rate))
    };
    // Each part that ran did something on both paths.
    let calls_ok = plan.rates.is_empty() || (direct_cps > 0 && gw_cps > 0);
    calls_ok && every_answered(&direct_lat) && every_answered(&gw_lat)
}
