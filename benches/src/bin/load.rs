//! The node's load script: sipp calls a real node at rising rates while a bot built on the
//! SDK takes every call, and the script prints the highest rate with no failed call, the most
//! concurrent calls held with audio both ways, and the node's CPU and memory per call, each
//! as a ratio to the issue's goal and beside the same load run against sipp alone (the
//! harness' own limit, measured in the same run).
//!
//! ```sh
//! cargo run --release -p rayo-benches --bin load             # the whole script, ~4 min
//! cargo run --release -p rayo-benches --bin load -- --phase1 # calls per second only
//! cargo run --release -p rayo-benches --bin load -- --phase2 # concurrency only
//! cargo run --release -p rayo-benches --bin load -- --smoke  # 5 calls at 5/s (a test runs it)
//! ```
//!
//! 2 000 held calls need about 2 000 descriptors in the node and 4 000 in sipp (RTP and RTCP
//! per call): the script prints the open-files limit it inherited and warns when it is lower;
//! raise it with `ulimit -n $(ulimit -Hn)` before running (the workspace forbids the `unsafe`
//! a `setrlimit` call would take).
//!
//! Three processes, so that each one's CPU and memory is its own (`/proc/<pid>/stat` and
//! `status`): the node (`load node`, a [`rayo_e2e::TestNode`] on a 2-thread runtime), the bot
//! (`load bot`, one SDK client on one thread) and sipp (`tests/sip/uac_node_hangs_up.xml`
//! for short calls, `tests/sip/load_uac_audio.xml` streaming G.711 for held ones). This
//! process only orchestrates; sipp's CPU is what this process' reaped children used.
//!
//! - Phase 1, calls per second: for 3 s at each rate, sipp places calls the bot accepts,
//!   answers and hangs up at once. A rate passes when every call succeeded in sipp and in
//!   the bot. The baseline is sipp calling sipp (`tests/sip/load_uas_baseline.xml`: answer,
//!   hang up) at the same rates.
//! - Phase 2, concurrency: a fresh node; N calls at (up to) 200/s, each held `N/rate + 5 s`
//!   while the bot plays a 5 s WAV in a loop and sipp streams a tone back. When all N are up,
//!   the node's CPU is read over 2 s and its RSS once; RSS per call is (RSS with N calls -
//!   RSS idle) / N. A step passes when every call succeeded and the node logged RTP both
//!   ways for each (its `RTP stopped` debug line: at least half the packets the hold implies).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayo_client::proto::event::{CompleteReason, OutputReason};
use rayo_client::{Client, Config as ClientConfig, Offer, Output, Trust};
use rayo_e2e::{chirp_wav, free_udp_ports, scenario, TempDir, TestNode, LOOPBACK, PASSWORD};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Calls per second set up and torn down (the issue's goal).
const GOAL_CPS: f64 = 200.0;
/// Concurrent calls with audio both ways (the issue's goal).
const GOAL_CONCURRENT: u64 = 1000;
/// Memory per call, KiB (the issue's goal: at most this).
const GOAL_KIB: f64 = 200.0;
/// The node's RTP ports: 2 500 even ones (more than the largest step), in a range no other
/// socket of the bench is bound in.
const NODE_RTP: (u16, u16) = rayo_e2e::BENCH_RTP;
/// sipp's media ports (its per-call rtp_stream ports count up from there).
const UAC_MEDIA: u16 = 10000;
const UAS_MEDIA: u16 = 40000;
/// Phase 1 rates, and how long each runs.
const RATES: [u32; 10] = [50, 100, 200, 300, 400, 600, 800, 1000, 1200, 1500];
const RATE_SECONDS: u32 = 3;
/// Phase 2 steps.
const CONCURRENCY: [u64; 5] = [250, 500, 1000, 1500, 2000];
/// The audio the bot plays (in a loop until the hold ends).
const PLAY_SECONDS: f64 = 5.0;
/// Phase 2's control step: calls held without output.
const CONTROL: u64 = 1000;
/// How long phase 2 measures CPU once all calls are up.
const WINDOW: Duration = Duration::from_secs(2);
/// sipp's name for the service of short calls; held calls use `hold<ms>`.
const SHORT: &str = "short";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = |threads: usize| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .expect("runtime")
    };
    match args.first().map(String::as_str) {
        Some("node") => rt(2).block_on(node_main(&args[1..])),
        Some("bot") => rt(1).block_on(bot_main(&args[1..])),
        Some("--smoke") => rt(1).block_on(smoke()),
        None | Some("--full") => rt(1).block_on(full(None)),
        Some("--phase1") => rt(1).block_on(full(Some(1))),
        Some("--phase2") => rt(1).block_on(full(Some(2))),
        Some(other) => {
            eprintln!(
                "usage: load [--full | --phase1 | --phase2 | --smoke]   (unknown argument {other:?})"
            );
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The node process.

async fn node_main(args: &[String]) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "warn,rayo_server::core=debug",
        ))
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let first: u16 = args[0].parse().expect("first RTP port");
    let last: u16 = args[1].parse().expect("last RTP port");
    let node = TestNode::start(|cfg| {
        cfg.rtp.first_port = first;
        cfg.rtp.last_port = last;
        cfg.limits.max_calls = 10_000;
        // Every call comes from sipp on 127.0.0.1: the per-source limit guards against one
        // hostile peer, not capacity.
        cfg.limits.max_calls_per_source = 0;
        // Likewise the SIP transactions of 1 500 calls/s, each alive 32 s after its answer.
        cfg.sip.max_transactions = 200_000;
        cfg.sip.max_transactions_per_source = 200_000;
        cfg.routes[0].targets = vec!["bot@localhost".into()];
        // The bot plays a file the driver process wrote in its own temporary directory.
        cfg.documents.file_dirs.push(std::env::temp_dir());
        if let Some(c) = &mut cfg.c2s {
            // One bot carries every call: 5 stanzas a call each way at 1 000 calls/s is
            // over the default flood limit, which guards against clients, not capacity.
            c.max_stanzas_per_second = 100_000.0;
        }
    })
    .await;
    println!(
        "READY {} {} {}",
        node.node.sip_addr(),
        node.node.c2s_addr().expect("c2s"),
        node.node.fingerprint().expect("certificate")
    );
    wait_stdin_closed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

async fn wait_stdin_closed() {
    let mut line = String::new();
    let mut stdin = BufReader::new(tokio::io::stdin());
    while matches!(stdin.read_line(&mut line).await, Ok(n) if n > 0) {
        line.clear();
    }
}

// ---------------------------------------------------------------------------------------
// The bot process.

#[derive(Default)]
struct BotCounters {
    offers: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    active: AtomicU64,
}

async fn bot_main(args: &[String]) {
    let (c2s, fp, wav) = (&args[0], &args[1], &args[2]);
    let cfg = ClientConfig::new("bot@localhost/load", PASSWORD)
        .expect("client config")
        .server(c2s.clone())
        .trust(Trust::Pinned(fp.clone()))
        .command_timeout(Duration::from_secs(30));
    let (client, mut offers) = Client::connect(cfg).await.expect("the bot logs in");
    client.set_available().expect("presence");
    client.ping().await.expect("the node answers pings");
    let n = Arc::new(BotCounters::default());
    println!("READY");
    let p = n.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
            println!(
                "STATS {} {} {} {}",
                g(&p.offers),
                g(&p.ok),
                g(&p.failed),
                g(&p.active)
            );
        }
    });
    tokio::spawn(async {
        wait_stdin_closed().await;
        std::process::exit(0);
    });
    let url: Arc<str> = format!("file://{wav}").into();
    while let Some(offer) = offers.next().await {
        n.offers.fetch_add(1, Ordering::Relaxed);
        let (n, url) = (n.clone(), url.clone());
        tokio::spawn(async move {
            match serve(offer, &url, &n).await {
                Ok(()) => n.ok.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    if n.failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("call failed: {e}");
                    }
                    0
                }
            };
        });
    }
}

/// The user part of a SIP URI.
fn called_user(uri: &str) -> &str {
    let s = uri.strip_prefix("sip:").unwrap_or(uri);
    s.split('@').next().unwrap_or_default()
}

/// Accepts, answers, plays (held calls) and hangs up.
async fn serve(offer: Offer, url: &str, n: &BotCounters) -> Result<(), String> {
    let user = called_user(&offer.to);
    let ms = |prefix: &str| {
        user.strip_prefix(prefix)
            .and_then(|ms| ms.parse::<u64>().ok())
    };
    let (hold, quiet) = (ms("hold"), ms("quiet"));
    let call = offer.call;
    call.accept([]).await.map_err(|e| format!("accept: {e}"))?;
    call.answer([]).await.map_err(|e| format!("answer: {e}"))?;
    n.active.fetch_add(1, Ordering::Relaxed);
    let r = async {
        if let Some(ms) = hold {
            let spec = Output::url(url)
                .repeat_times(1000)
                .max_time(Duration::from_millis(ms));
            let out = call
                .output(spec)
                .await
                .map_err(|e| format!("output: {e}"))?;
            let done = out.complete().await.map_err(|e| format!("complete: {e}"))?;
            if !matches!(
                done.reason,
                CompleteReason::Output(OutputReason::Finish | OutputReason::MaxTime)
            ) {
                return Err(format!("output ended with {:?}", done.reason));
            }
        }
        if let Some(ms) = quiet {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        call.hangup([]).await.map_err(|e| format!("hangup: {e}"))
    }
    .await;
    n.active.fetch_sub(1, Ordering::Relaxed);
    r
}

// ---------------------------------------------------------------------------------------
// /proc.

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Fields 3… of `/proc/<pid>/stat` (after the command name).
fn stat_fields(pid: &str) -> Vec<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rfind(')').map(|i| &s[i + 1..]).unwrap_or("");
    rest.split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect()
}

/// CPU seconds (user + system) of a process.
fn cpu_of(pid: u32, tck: f64) -> f64 {
    let f = stat_fields(&pid.to_string());
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 / tck
}

/// CPU seconds of this process' reaped children (the sipps).
fn reaped_children_cpu(tck: f64) -> f64 {
    let f = stat_fields("self");
    (f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0)) as f64 / tck
}

/// A `Vm…:` line of `/proc/<pid>/status`, KiB.
fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn open_files_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{}/{}", f.get(3).unwrap_or(&"?"), f.get(4).unwrap_or(&"?"))
        })
        .unwrap_or_else(|| "?".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------
// The node and bot children, seen from here.

/// What the node logged: `(sent, received)` RTP packets of each ended call, and warnings.
#[derive(Default)]
struct NodeLog {
    rtp: Vec<(u64, u64)>,
    warnings: u64,
    first_warnings: Vec<String>,
}

struct NodeProc {
    child: Child,
    pid: u32,
    sip: String,
    c2s: String,
    fp: String,
    log: Arc<Mutex<NodeLog>>,
}

fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

impl NodeProc {
    async fn start() -> NodeProc {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args(["node", &NODE_RTP.0.to_string(), &NODE_RTP.1.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the node process starts");
        let pid = child.id().expect("pid");
        let log = Arc::new(Mutex::new(NodeLog::default()));
        let mut err = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let l = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                let mut g = l.lock().expect("log");
                if line.contains("RTP stopped") {
                    let sent = field(&line, "sent=").unwrap_or(0);
                    let received = field(&line, "received=").unwrap_or(0);
                    g.rtp.push((sent, received));
                } else {
                    g.warnings += 1;
                    if g.first_warnings.len() < 5 {
                        g.first_warnings.push(line);
                    }
                }
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), out.next_line())
            .await
            .expect("the node starts in time")
            .expect("node stdout")
            .expect("a READY line");
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        let f: Vec<&str> = ready.split_whitespace().collect();
        assert_eq!(f.first(), Some(&"READY"), "{ready}");
        NodeProc {
            child,
            pid,
            sip: f[1].into(),
            c2s: f[2].into(),
            fp: f[3].into(),
            log,
        }
    }

    fn rtp_since(&self, from: usize) -> Vec<(u64, u64)> {
        self.log.lock().expect("log").rtp[from..].to_vec()
    }

    fn rtp_count(&self) -> usize {
        self.log.lock().expect("log").rtp.len()
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let g = self.log.lock().expect("log");
        if g.warnings > 0 {
            println!("  node logged {} other lines, first:", g.warnings);
            for w in &g.first_warnings {
                println!("    {w}");
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct BotStats {
    offers: u64,
    ok: u64,
    failed: u64,
    active: u64,
}

struct BotProc {
    child: Child,
    pid: u32,
    stats: Arc<Mutex<BotStats>>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl BotProc {
    async fn start(node: &NodeProc, wav: &Path) -> BotProc {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .arg("bot")
            .args([&node.c2s, &node.fp])
            .arg(wav)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the bot process starts");
        let pid = child.id().expect("pid");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut err = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let e = errors.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                e.lock().expect("errors").push(line);
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), out.next_line())
            .await
            .expect("the bot logs in in time")
            .expect("bot stdout");
        assert_eq!(
            ready.as_deref(),
            Some("READY"),
            "bot: {:?}",
            errors.lock().expect("errors")
        );
        let stats = Arc::new(Mutex::new(BotStats::default()));
        let s = stats.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                if let [offers, ok, failed, active] = v[..] {
                    *s.lock().expect("stats") = BotStats {
                        offers,
                        ok,
                        failed,
                        active,
                    };
                }
            }
        });
        BotProc {
            child,
            pid,
            stats,
            errors,
        }
    }

    fn stats(&self) -> BotStats {
        *self.stats.lock().expect("stats")
    }

    /// Waits until every offered call is done (or `limit` passes); the stats then.
    async fn drained(&self, limit: Duration) -> BotStats {
        let until = Instant::now() + limit;
        tokio::time::sleep(Duration::from_millis(250)).await;
        loop {
            let s = self.stats();
            if (s.active == 0 && s.offers == s.ok + s.failed) || Instant::now() >= until {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let e = self.errors.lock().expect("errors");
        if !e.is_empty() {
            println!("  bot stderr ({} lines), first:", e.len());
            for l in e.iter().take(5) {
                println!("    {l}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// sipp.

/// One sipp run: the scenario, whom it calls (a UAC) and how.
struct Sipp<'a> {
    scenario: &'a str,
    target: Option<&'a str>,
    service: &'a str,
    rate: u32,
    calls: u64,
    media_port: u16,
    /// `-d`: the pause of `<pause/>` (the baseline UAS' hold), ms.
    pause_ms: u64,
}

/// What sipp's statistics file said at the end.
#[derive(Debug, Default, Clone)]
struct SippStats {
    ok: u64,
    failed: u64,
    peak: u64,
    retrans: u64,
    /// Mean INVITE → 200 time (UAC), ms.
    rtd_ms: f64,
    success: bool,
    stderr: String,
    /// The non-zero `Failed…` counters, as `name=n`.
    why: String,
}

struct SippProc {
    child: Child,
    stat: PathBuf,
    port: u16,
}

impl Sipp<'_> {
    fn spawn(&self, dir: &Path, tag: &str) -> SippProc {
        let port = free_udp_ports(1);
        let stat = dir.join(format!("{tag}-{port}.csv"));
        let mut cmd = Command::new("sipp");
        cmd.arg("-sf").arg(scenario(self.scenario));
        cmd.args(["-i", LOOPBACK, "-mi", LOOPBACK, "-nostdin"]);
        cmd.args(["-p", &port.to_string(), "-mp", &self.media_port.to_string()]);
        cmd.args(["-s", self.service, "-m", &self.calls.to_string()]);
        cmd.args(["-r", &self.rate.to_string(), "-rp", "1000"]);
        cmd.args(["-l", "100000", "-d", &self.pause_ms.to_string()]);
        cmd.args([
            "-recv_timeout",
            "30000",
            "-timeout",
            "180",
            "-timeout_error",
        ]);
        cmd.args(["-rtp_threadtasks", "100", "-max_socket", "60000"]);
        cmd.args(["-trace_stat", "-fd", "1", "-stf"]).arg(&stat);
        if let Some(t) = self.target {
            cmd.arg(t);
        }
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .expect("sipp starts (apt-get install -y sip-tester)");
        SippProc { child, stat, port }
    }
}

impl SippProc {
    fn uri(&self) -> String {
        format!("{LOOPBACK}:{}", self.port)
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    async fn finish(mut self, limit: Duration) -> SippStats {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(s) => s.ok(),
            Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        };
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = e.read_to_string(&mut stderr).await;
        }
        let mut s = parse_stats(&self.stat);
        s.success = status.is_some_and(|s| s.success());
        s.stderr = stderr.trim().chars().take(300).collect();
        s
    }
}

/// `HH:MM:SS:uuuuuu` (sipp's durations) in ms.
fn sipp_duration_ms(v: &str) -> f64 {
    let p: Vec<f64> = v.split(':').filter_map(|x| x.parse().ok()).collect();
    match p[..] {
        [h, m, s, us] => ((h * 60.0 + m) * 60.0 + s) * 1000.0 + us / 1000.0,
        _ => 0.0,
    }
}

fn parse_stats(path: &Path) -> SippStats {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return SippStats::default();
    };
    let col: HashMap<&str, usize> = header.split(';').enumerate().map(|(i, c)| (c, i)).collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
    let num = |row: &[&str], name: &str| -> u64 {
        col.get(name)
            .and_then(|&i| row.get(i))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let Some(last) = rows.last() else {
        return SippStats::default();
    };
    SippStats {
        ok: num(last, "SuccessfulCall(C)"),
        failed: num(last, "FailedCall(C)"),
        peak: rows
            .iter()
            .map(|r| num(r, "CurrentCall"))
            .max()
            .unwrap_or(0),
        retrans: num(last, "Retransmissions(C)"),
        rtd_ms: col
            .get("ResponseTime1(C)")
            .and_then(|&i| last.get(i))
            .map(|v| sipp_duration_ms(v))
            .unwrap_or(0.0),
        success: false,
        stderr: String::new(),
        why: col
            .keys()
            .filter(|c| c.starts_with("Failed") && c.ends_with("(C)") && **c != "FailedCall(C)")
            .filter_map(|c| {
                let v = num(last, c);
                (v > 0).then(|| {
                    format!(
                        "{}={v}",
                        c.trim_start_matches("Failed").trim_end_matches("(C)")
                    )
                })
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A G.711 u-law WAV of a 440 Hz tone (what sipp's rtp_stream sends: its header, then the
/// payload bytes 160 at a time).
fn write_ulaw_tone(path: &Path, seconds: f64) {
    let n = (seconds * 8000.0) as usize;
    let data: Vec<u8> = (0..n)
        .map(|i| {
            let x = (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin() * 8000.0;
            rayo_media::g711::linear_to_ulaw(x as i16)
        })
        .collect();
    let mut w = Vec::with_capacity(58 + n);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(4 + 26 + 8 + n as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&18u32.to_le_bytes());
    w.extend_from_slice(&7u16.to_le_bytes()); // u-law
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8u16.to_le_bytes());
    w.extend_from_slice(&0u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(n as u32).to_le_bytes());
    w.extend_from_slice(&data);
    std::fs::write(path, w).expect("tone written");
}

/// The files sipp and the bot play.
struct Media {
    dir: TempDir,
    wav: PathBuf,
}

fn media() -> Media {
    let dir = TempDir::new("load");
    write_ulaw_tone(&dir.0.join("load-tone.wav"), 1.0);
    let (wav, _) = chirp_wav(&dir.0, PLAY_SECONDS);
    Media { dir, wav }
}

// ---------------------------------------------------------------------------------------
// The runs.

/// Phase 1 against the node: one rate.
struct RateRow {
    rate: u32,
    sipp: SippStats,
    bot: BotStats,
    wall: f64,
    node_ms_per_call: f64,
    bot_ms_per_call: f64,
    sipp_ms_per_call: f64,
}

impl RateRow {
    fn passed(&self, calls: u64) -> bool {
        self.sipp.success
            && self.sipp.failed == 0
            && self.sipp.ok == calls
            && self.bot.failed == 0
            && self.bot.ok == calls
    }
}

async fn rate_step(m: &Media, node: &NodeProc, bot: &BotProc, rate: u32, tck: f64) -> RateRow {
    let calls = u64::from(rate * RATE_SECONDS);
    let (n0, b0, s0) = (
        cpu_of(node.pid, tck),
        cpu_of(bot.pid, tck),
        reaped_children_cpu(tck),
    );
    let before = bot.stats();
    let t0 = Instant::now();
    let sipp = Sipp {
        scenario: "uac_node_hangs_up.xml",
        target: Some(&node.sip),
        service: SHORT,
        rate,
        calls,
        media_port: UAC_MEDIA,
        pause_ms: 0,
    }
    .spawn(&m.dir.0, &format!("rate{rate}"))
    .finish(Duration::from_secs(120))
    .await;
    let wall = t0.elapsed().as_secs_f64();
    let after = bot.drained(Duration::from_secs(30)).await;
    let per = |d: f64| d * 1000.0 / calls as f64;
    RateRow {
        rate,
        wall,
        node_ms_per_call: per(cpu_of(node.pid, tck) - n0),
        bot_ms_per_call: per(cpu_of(bot.pid, tck) - b0),
        sipp_ms_per_call: per(reaped_children_cpu(tck) - s0),
        sipp,
        bot: BotStats {
            offers: after.offers - before.offers,
            ok: after.ok - before.ok,
            failed: after.failed - before.failed,
            active: after.active,
        },
    }
}

/// The baseline of phase 1 (or 2): sipp calling sipp, UAS hanging up after `pause_ms`.
struct BaseRow {
    uac: SippStats,
    uas: SippStats,
    cpu_ms_per_call: f64,
}

impl BaseRow {
    fn passed(&self, calls: u64) -> bool {
        self.uac.success && self.uac.failed == 0 && self.uac.ok == calls && self.uas.failed == 0
    }
}

async fn baseline(
    m: &Media,
    uac_scenario: &str,
    rate: u32,
    calls: u64,
    pause_ms: u64,
    tck: f64,
) -> BaseRow {
    let s0 = reaped_children_cpu(tck);
    let uas = Sipp {
        scenario: "load_uas_baseline.xml",
        target: None,
        service: SHORT,
        rate,
        calls,
        media_port: UAS_MEDIA,
        pause_ms,
    }
    .spawn(&m.dir.0, &format!("base-uas{rate}"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let target = uas.uri();
    let uac = Sipp {
        scenario: uac_scenario,
        target: Some(&target),
        service: SHORT,
        rate,
        calls,
        media_port: UAC_MEDIA,
        pause_ms: 0,
    }
    .spawn(&m.dir.0, &format!("base-uac{rate}"))
    .finish(Duration::from_secs(180))
    .await;
    let uas = uas.finish(Duration::from_secs(10)).await;
    BaseRow {
        uac,
        uas,
        cpu_ms_per_call: (reaped_children_cpu(tck) - s0) * 1000.0 / calls as f64,
    }
}

/// Phase 2: one step.
struct HoldRow {
    n: u64,
    reached: u64,
    sipp: SippStats,
    bot: BotStats,
    rss_kib: u64,
    kib_per_call: f64,
    node_core: f64,
    bot_core: f64,
    rtp_calls: usize,
    rtp_short: usize,
    rx_per_call: f64,
    tx_per_call: f64,
    expected_packets: f64,
}

impl HoldRow {
    fn passed(&self) -> bool {
        self.sipp.success
            && self.sipp.failed == 0
            && self.sipp.ok == self.n
            && self.bot.failed == 0
            && self.bot.ok == self.n
            && self.reached >= self.n
            && self.rtp_calls as u64 == self.n
            && self.rtp_short == 0
    }
}

#[allow(clippy::too_many_arguments)]
async fn hold_step(
    m: &Media,
    node: &NodeProc,
    bot: &BotProc,
    n: u64,
    rate: u32,
    idle_kib: u64,
    tck: f64,
    play: bool,
) -> HoldRow {
    let ramp = n as f64 / f64::from(rate);
    let hold_ms = ((ramp + PLAY_SECONDS) * 1000.0) as u64;
    let service = format!("{}{hold_ms}", if play { "hold" } else { "quiet" });
    let rtp0 = node.rtp_count();
    let before = bot.stats();
    let mut sipp = Sipp {
        scenario: "load_uac_audio.xml",
        target: Some(&node.sip),
        service: &service,
        rate,
        calls: n,
        media_port: UAC_MEDIA,
        pause_ms: 0,
    }
    .spawn(&m.dir.0, &format!("hold{n}"));
    // Wait until all n calls are answered and playing.
    let until = Instant::now() + Duration::from_secs_f64(ramp + 20.0);
    let mut reached = 0;
    while Instant::now() < until && sipp.running() {
        reached = bot.stats().active;
        if reached >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (c0, b0) = (cpu_of(node.pid, tck), cpu_of(bot.pid, tck));
    tokio::time::sleep(WINDOW).await;
    let w = WINDOW.as_secs_f64();
    let (node_core, bot_core) = (
        (cpu_of(node.pid, tck) - c0) / w,
        (cpu_of(bot.pid, tck) - b0) / w,
    );
    reached = reached.max(bot.stats().active.min(n));
    let rss_kib = status_kib(node.pid, "VmRSS:");
    let sipp = sipp
        .finish(Duration::from_secs_f64(ramp + PLAY_SECONDS + 60.0))
        .await;
    let after = bot.drained(Duration::from_secs(30)).await;
    // The node logs each call's RTP when its session stops, just after the BYE.
    let t = Instant::now();
    while node.rtp_count() - rtp0 < n as usize && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rtp = node.rtp_since(rtp0);
    let expected = hold_ms as f64 / 20.0;
    let k = rtp.len().max(1) as f64;
    HoldRow {
        n,
        reached,
        bot: BotStats {
            offers: after.offers - before.offers,
            ok: after.ok - before.ok,
            failed: after.failed - before.failed,
            active: after.active,
        },
        sipp,
        rss_kib,
        kib_per_call: rss_kib.saturating_sub(idle_kib) as f64 / n as f64,
        node_core,
        bot_core,
        rtp_calls: rtp.len(),
        rtp_short: rtp
            .iter()
            .filter(|(s, r)| (*s as f64) < expected / 2.0 || (*r as f64) < expected / 2.0)
            .count(),
        rx_per_call: rtp.iter().map(|x| x.1).sum::<u64>() as f64 / k,
        tx_per_call: rtp.iter().map(|x| x.0).sum::<u64>() as f64 / k,
        expected_packets: expected,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "FAIL"
    }
}

async fn full(only: Option<u8>) {
    let tck = clock_ticks();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "rayo load script: {cpus} CPUs, open files soft/hard {}, load average {} at start",
        open_files_limit(),
        loadavg()
    );
    println!(
        "  node RTP ports {}..={}, sipp media from {UAC_MEDIA} (UAC) and {UAS_MEDIA} (UAS)",
        NODE_RTP.0, NODE_RTP.1
    );
    let soft: u64 = open_files_limit()
        .split('/')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let needed = 2 * CONCURRENCY[CONCURRENCY.len() - 1] + 200;
    if soft < needed {
        println!("  WARNING: {soft} open files is fewer than the {needed} sipp needs at the largest step; run `ulimit -n $(ulimit -Hn)` first");
    }
    let m = media();
    let started = Instant::now();

    let phase1 = only != Some(2);
    let phase2 = only != Some(1);
    let mut base_best = 0;
    let mut best = 0;
    let mut rows = Vec::new();
    if phase1 {
        // Phase 1 baseline: sipp → sipp.
        println!(
            "\nphase 1 baseline: sipp calls sipp (answer, hang up), {RATE_SECONDS} s per rate"
        );
        println!("  rate/s  calls  ok/failed  INVITE→200 ms  sipp CPU ms/call");
        for &rate in &RATES {
            let calls = u64::from(rate * RATE_SECONDS);
            let b = baseline(&m, "uac_node_hangs_up.xml", rate, calls, 0, tck).await;
            let ok = b.passed(calls);
            println!(
                "  {rate:>6}  {calls:>5}  {:>5}/{:<5} {:>8.1}  {:>14.3}  {}",
                b.uac.ok,
                b.uac.failed + b.uas.failed,
                b.uac.rtd_ms,
                b.cpu_ms_per_call,
                verdict(ok)
            );
            if !ok {
                break;
            }
            base_best = rate;
        }

        // Phase 1: the node.
        println!("\nphase 1: sipp calls the node; the bot accepts, answers, hangs up; {RATE_SECONDS} s per rate");
        println!("  rate/s  calls  sipp ok/failed  bot ok/failed  wall s  INVITE→200 ms  retrans  CPU ms/call: node  bot  sipp");
        let node = NodeProc::start().await;
        let bot = BotProc::start(&node, &m.wav).await;
        for &rate in &RATES {
            let r = rate_step(&m, &node, &bot, rate, tck).await;
            let calls = u64::from(rate * RATE_SECONDS);
            let ok = r.passed(calls);
            println!(
            "  {:>6}  {calls:>5}  {:>7}/{:<6} {:>6}/{:<6} {:>6.2}  {:>13.1}  {:>7}  {:>17.3}  {:>4.3}  {:>4.3}  {}",
            r.rate,
            r.sipp.ok,
            r.sipp.failed,
            r.bot.ok,
            r.bot.failed,
            r.wall,
            r.sipp.rtd_ms,
            r.sipp.retrans,
            r.node_ms_per_call,
            r.bot_ms_per_call,
            r.sipp_ms_per_call,
            verdict(ok)
        );
            if !ok {
                println!(
                    "    sipp failures: {}; sipp stderr: {}",
                    r.sipp.why,
                    r.sipp.stderr.replace('\n', " | ")
                );
            }
            rows.push(r);
            if !ok {
                break;
            }
            best = rate;
        }
        bot.stop().await;
        node.stop().await;
    } else {
        best = GOAL_CPS as u32;
    }

    // Phase 2: a fresh node.
    let rate2 = (GOAL_CPS as u32).min(best.max(50));
    let mut held = 0;
    let mut holds = Vec::new();
    let mut base_call_s = 0.0;
    let mut control = None;
    if phase2 {
        println!(
        "\nphase 2: N calls at {rate2}/s, each held N/{rate2} + {PLAY_SECONDS} s: the bot plays a {PLAY_SECONDS} s WAV in a loop, sipp streams G.711 back"
    );
        // The control: the same calls with no output (the node streams silence), on a
        // node of its own so that the allocator's high-water mark is its own.
        let node = NodeProc::start().await;
        let bot = BotProc::start(&node, &m.wav).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_kib = status_kib(node.pid, "VmRSS:");
        let c = hold_step(&m, &node, &bot, CONTROL, rate2, idle_kib, tck, false).await;
        control = Some((c.kib_per_call, c.node_core / c.reached.max(1) as f64));
        println!(
            "  control, {CONTROL} calls held without output: {:.1} KiB/call, {:.1} µs CPU per call-s, RTP rx/tx {:.0}/{:.0} ({:.0})  {}",
            c.kib_per_call,
            c.node_core * 1e6 / c.reached.max(1) as f64,
            c.rx_per_call,
            c.tx_per_call,
            c.expected_packets,
            verdict(c.passed())
        );
        bot.stop().await;
        node.stop().await;

        let node = NodeProc::start().await;
        let bot = BotProc::start(&node, &m.wav).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_kib = status_kib(node.pid, "VmRSS:");
        println!("  node idle RSS {:.1} MiB", idle_kib as f64 / 1024.0);
        println!("  N      up  sipp ok/failed  bot ok/failed  RSS MiB  KiB/call  node CPU (cores)  µs CPU per call-s  bot cores  RTP rx/tx per call (expected)");
        for &n in &CONCURRENCY {
            let h = hold_step(&m, &node, &bot, n, rate2, idle_kib, tck, true).await;
            let ok = h.passed();
            println!(
            "  {:<5} {:>4}  {:>7}/{:<6} {:>6}/{:<6} {:>7.1}  {:>8.1}  {:>16.3}  {:>17.1}  {:>9.3}  {:.0}/{:.0} ({:.0}), {} calls short  {}",
            h.n,
            h.reached,
            h.sipp.ok,
            h.sipp.failed,
            h.bot.ok,
            h.bot.failed,
            h.rss_kib as f64 / 1024.0,
            h.kib_per_call,
            h.node_core,
            h.node_core * 1e6 / h.reached.max(1) as f64,
            h.bot_core,
            h.rx_per_call,
            h.tx_per_call,
            h.expected_packets,
            h.rtp_short + (h.n as usize).saturating_sub(h.rtp_calls),
            verdict(ok)
        );
            if !ok {
                println!(
                    "    sipp failures: {}; sipp stderr: {}",
                    h.sipp.why,
                    h.sipp.stderr.replace('\n', " | ")
                );
            }
            holds.push(h);
            if !ok {
                break;
            }
            held = n;
        }
        bot.stop().await;
        node.stop().await;

        // Phase 2 baseline at the largest N tried.
        let n_base = holds.last().map_or(CONCURRENCY[0], |h| h.n);
        let ramp = n_base as f64 / f64::from(rate2);
        let hold_ms = ((ramp + PLAY_SECONDS) * 1000.0) as u64;
        let b = baseline(&m, "load_uac_audio.xml", rate2, n_base, hold_ms, tck).await;
        base_call_s = b.cpu_ms_per_call / 1000.0 / (hold_ms as f64 / 1000.0);
        println!(
        "\nphase 2 baseline: sipp calls sipp, {n_base} calls held {:.1} s with audio both ways: {}/{} ok/failed, peak {}, sipp (both) {:.1} µs CPU per call-s  {}",
        hold_ms as f64 / 1000.0,
        b.uac.ok,
        b.uac.failed + b.uas.failed,
        b.uac.peak,
        base_call_s * 1e6,
        verdict(b.passed(n_base))
    );
    }

    // Summary.
    let best_row = rows.iter().find(|r| r.rate == best);
    let best_hold = holds.iter().find(|h| h.n == held);
    println!(
        "\nsummary ({:.0} s, load average {} at the end; other work on this machine shares the CPUs)",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    if phase1 {
        println!(
        "  highest rate with no failed call: {best}/s = {:.2}x the {GOAL_CPS}/s goal; sipp→sipp reached {base_best}/s ({})",
        f64::from(best) / GOAL_CPS,
        if base_best > 0 {
            format!("the node {:.2}x the harness", f64::from(best) / f64::from(base_best))
        } else {
            "no baseline".into()
        }
    );
        if best == RATES[RATES.len() - 1] {
            println!("    (the highest rate tried: the limit is above)");
        }
        let kept = rows
            .iter()
            .filter(|r| {
                r.passed(u64::from(r.rate * RATE_SECONDS))
                    && r.sipp.retrans == 0
                    && r.sipp.rtd_ms < 50.0
            })
            .map(|r| r.rate)
            .max()
            .unwrap_or(0);
        println!(
            "  highest rate the node kept up with (no retransmission, mean INVITE→200 < 50 ms): {kept}/s = {:.2}x the goal",
            f64::from(kept) / GOAL_CPS
        );
        if let Some(r) = best_row {
            println!(
            "  CPU per call set up and torn down at {best}/s: node {:.3} ms, bot {:.3} ms, sipp {:.3} ms",
            r.node_ms_per_call, r.bot_ms_per_call, r.sipp_ms_per_call
        );
        }
    }
    if !phase2 {
        return;
    }
    println!(
        "  most concurrent calls held with audio both ways: {held} = {:.2}x the {GOAL_CONCURRENT} goal",
        held as f64 / GOAL_CONCURRENT as f64
    );
    if let Some(h) = best_hold.or(holds.last()) {
        let per_call_s = h.node_core / h.reached.max(1) as f64;
        println!(
            "  memory per call at {}: {:.1} KiB = {:.2}x the {GOAL_KIB} KiB ceiling",
            h.n,
            h.kib_per_call,
            h.kib_per_call / GOAL_KIB
        );
        if let Some((kib, _)) = control {
            println!(
                "    of which the output: {:.1} KiB ({:.0} %; the control held {CONTROL} calls with no output at {kib:.1} KiB/call)",
                h.kib_per_call - kib,
                (h.kib_per_call - kib) * 100.0 / h.kib_per_call.max(1e-9)
            );
        }
        println!(
            "  node CPU per call-second of audio both ways at {}: {:.1} µs ({:.2}x sipp's own per call-s, both ends, in the baseline); {:.0} calls per core",
            h.n,
            per_call_s * 1e6,
            if base_call_s > 0.0 { per_call_s / base_call_s } else { f64::NAN },
            1.0 / per_call_s.max(1e-12)
        );
    }
}

async fn smoke() {
    let m = media();
    let node = NodeProc::start().await;
    let bot = BotProc::start(&node, &m.wav).await;
    let calls = 5;
    let sipp = Sipp {
        scenario: "load_uac_audio.xml",
        target: Some(&node.sip),
        service: "hold1000",
        rate: 5,
        calls,
        media_port: free_udp_ports(40),
        pause_ms: 0,
    }
    .spawn(&m.dir.0, "smoke")
    .finish(Duration::from_secs(60))
    .await;
    let s = bot.drained(Duration::from_secs(20)).await;
    let t = Instant::now();
    while node.rtp_count() < calls as usize && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rtp = node.rtp_since(0);
    println!(
        "smoke: sipp {}/{} ok/failed, bot {}/{} ok/failed, RTP (sent, received) per call {rtp:?}",
        sipp.ok, sipp.failed, s.ok, s.failed
    );
    bot.stop().await;
    node.stop().await;
    assert!(
        sipp.success && sipp.ok == calls && sipp.failed == 0,
        "sipp: {sipp:?}"
    );
    assert_eq!((s.ok, s.failed), (calls, 0), "bot: {s:?}");
    assert_eq!(rtp.len(), calls as usize, "every call's RTP logged");
    // 1 s held: 50 packets each way; at least half, both ways.
    assert!(
        rtp.iter()
            .all(|&(sent, received)| sent >= 25 && received >= 25),
        "audio both ways: {rtp:?}"
    );
}
