//! Tests of the player under a virtual clock: frame `i` is played at `t0 + 20 ms × i`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use super::*;
use proptest::prelude::*;
use rayo_proto::generated::output::{
    self as o, Pause, Resume, Seek, SpeedDown, SpeedUp, VolumeDown, VolumeUp,
};

const MS20: Duration = Duration::from_millis(20);

/// Samples 1, 2, 3… so that every sample tells its position.
fn ramp(n: usize) -> Vec<i16> {
    (1..=n).map(|i| i as i16).collect()
}

fn docs(parts: &[Vec<i16>]) -> Vec<Rendered> {
    parts
        .iter()
        .map(|p| Rendered {
            source: "inline".into(),
            samples: Arc::new(p.clone()),
        })
        .collect()
}

/// Plays frames from frame `from` until completion (at most `max` frames); returns the
/// samples and the frame index at which the reason appeared.
fn run(
    p: &mut Player,
    t0: Instant,
    from: u32,
    max: u32,
) -> (Vec<i16>, Option<(u32, CompleteReason)>) {
    let mut all = Vec::new();
    for i in from..from + max {
        let mut f = [7i16; FRAME];
        p.frame(t0 + MS20 * i, &mut f);
        all.extend_from_slice(&f);
        if let Some(r) = p.poll_complete() {
            return (all, Some((i, r)));
        }
    }
    (all, None)
}

const FINISH: CompleteReason = CompleteReason::Output(OutputReason::Finish);
const MAX_TIME: CompleteReason = CompleteReason::Output(OutputReason::MaxTime);

fn seek(direction: SeekDirection, ms: u64) -> OutputCommand {
    OutputCommand::Seek(Seek {
        direction,
        amount: Duration::from_millis(ms),
    })
}

#[test]
fn documents_play_back_to_back_and_finish_in_the_frame_that_ends_them() {
    let t0 = Instant::now();
    let (a, b) = (ramp(300), vec![-5; 100]);
    let mut p = Player::new(&Output::default(), docs(&[a.clone(), b.clone()]), t0);
    let (got, done) = run(&mut p, t0, 0, 10);
    assert_eq!(
        done,
        Some((2, FINISH)),
        "400 samples end in the third frame"
    );
    assert_eq!(&got[..300], a.as_slice());
    assert_eq!(&got[300..400], b.as_slice());
    assert!(
        got[400..].iter().all(|&s| s == 0),
        "the rest of the frame is silence"
    );
    assert!(p.is_complete() && p.poll_timeout().is_none());
    let mut f = [1; FRAME];
    assert!(!p.frame(t0 + MS20 * 3, &mut f) && f == [0; FRAME]);
}

#[test]
fn start_offset_skips_into_the_first_pass_only() {
    let t0 = Instant::now();
    let spec = Output {
        start_offset: Some(Duration::from_millis(10)),
        repeat_times: Some(2),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(320)]), t0);
    assert_eq!(p.position(), Duration::from_millis(10));
    let (got, done) = run(&mut p, t0, 0, 10);
    assert_eq!(got[0], 81);
    assert_eq!(
        &got[240..560],
        ramp(320).as_slice(),
        "the second pass starts at 0"
    );
    assert_eq!(done, Some((3, FINISH)));
    let spec = Output {
        start_offset: Some(Duration::from_secs(9)),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(320)]), t0);
    assert_eq!(
        p.poll_complete(),
        Some(FINISH),
        "an offset past the end finishes at once"
    );
}

#[test]
fn start_paused_is_silent_until_resumed() {
    let t0 = Instant::now();
    let spec = Output {
        start_paused: Some(true),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(160)]), t0);
    let mut f = [1; FRAME];
    for i in 0..5 {
        assert!(!p.frame(t0 + MS20 * i, &mut f));
        assert_eq!(f, [0; FRAME]);
    }
    p.command(t0, &OutputCommand::Resume(Resume))
        .expect("resumes");
    assert!(p.frame(t0 + MS20 * 5, &mut f));
    assert_eq!(f[0], 1);
}

#[test]
fn repeats_are_spaced_by_the_interval_of_silence() {
    let t0 = Instant::now();
    let spec = Output {
        repeat_times: Some(3),
        repeat_interval: Some(Duration::from_millis(30)),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(200)]), t0);
    let (got, done) = run(&mut p, t0, 0, 20);
    // 200 + 240 + 200 + 240 + 200 = 1080 samples: the seventh frame.
    assert_eq!(done, Some((6, FINISH)));
    assert_eq!(&got[..200], ramp(200).as_slice());
    assert!(got[200..440].iter().all(|&s| s == 0));
    assert_eq!(&got[440..640], ramp(200).as_slice());
    assert_eq!(&got[880..1080], ramp(200).as_slice());
    assert_eq!(p.pass(), 2);
}

#[test]
fn repeat_forever_ends_only_at_max_time_on_the_right_frame() {
    let t0 = Instant::now();
    let spec = Output {
        repeat_times: Some(0),
        max_time: Some(Duration::from_millis(1000)),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(100)]), t0);
    assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    let (got, done) = run(&mut p, t0, 0, 100);
    assert_eq!(done, Some((50, MAX_TIME)), "the frame at t0 + 1000 ms");
    assert!(
        got[..50 * FRAME].iter().all(|&s| s != 0),
        "audio until then"
    );
    assert!(p.pass() >= 79);
    let e = p.command(t0 + Duration::from_secs(2), &OutputCommand::Pause(Pause));
    assert_eq!(e, Err(PlayerError::Complete));
}

#[test]
fn max_time_counts_paused_time_too() {
    let t0 = Instant::now();
    let spec = Output {
        max_time: Some(Duration::from_millis(100)),
        start_paused: Some(true),
        ..Output::default()
    };
    let mut p = Player::new(&spec, docs(&[ramp(8000)]), t0);
    assert_eq!(run(&mut p, t0, 0, 10).1, Some((5, MAX_TIME)));
}

#[test]
fn seek_moves_the_marker_by_the_amount() {
    let t0 = Instant::now();
    let mut p = Player::new(&Output::default(), docs(&[ramp(16000)]), t0);
    let mut f = [0; FRAME];
    p.frame(t0, &mut f);
    assert_eq!(p.position(), Duration::from_millis(20));
    p.command(t0, &seek(SeekDirection::Forward, 1000))
        .expect("seeks");
    assert_eq!(p.position(), Duration::from_millis(1020));
    p.frame(t0 + MS20, &mut f);
    assert_eq!(f[0], 8161);
    p.command(t0, &seek(SeekDirection::Back, 500))
        .expect("seeks");
    assert_eq!(p.position(), Duration::from_millis(540));
    p.command(t0, &seek(SeekDirection::Back, 5000))
        .expect("seeks");
    assert_eq!(p.position(), Duration::ZERO, "back stops at the start");
    p.command(t0, &seek(SeekDirection::Forward, 5000))
        .expect("seeks");
    assert_eq!(
        p.poll_complete(),
        Some(FINISH),
        "forward past the end finishes"
    );
}

#[test]
fn pause_and_resume_keep_the_marker() {
    let t0 = Instant::now();
    let mut p = Player::new(&Output::default(), docs(&[ramp(1600)]), t0);
    let mut f = [0; FRAME];
    p.frame(t0, &mut f);
    p.command(t0, &OutputCommand::Pause(Pause)).expect("pauses");
    assert_eq!(
        p.command(t0, &OutputCommand::Pause(Pause)),
        Err(PlayerError::AlreadyPaused)
    );
    for i in 1..10 {
        assert!(!p.frame(t0 + MS20 * i, &mut f));
    }
    p.command(t0, &OutputCommand::Resume(Resume))
        .expect("resumes");
    let e = p
        .command(t0, &OutputCommand::Resume(Resume))
        .expect_err("not paused");
    assert_eq!(
        (e.condition(), e),
        ("unexpected-request", PlayerError::NotPaused)
    );
    assert!(p.frame(t0 + MS20 * 10, &mut f));
    assert_eq!(f[0], 161);
}

#[test]
fn speed_changes_by_ten_percent_steps_within_limits() {
    let t0 = Instant::now();
    let mut p = Player::new(&Output::default(), docs(&[ramp(32000)]), t0);
    for _ in 0..30 {
        p.command(t0, &OutputCommand::SpeedUp(SpeedUp))
            .expect("acknowledged");
    }
    assert!((p.speed() - SPEED_MAX).abs() < 1e-9);
    let mut f = [0; FRAME];
    p.frame(t0, &mut f);
    assert_eq!(p.position(), Duration::from_millis(40), "twice as fast");
    assert_eq!((f[0], f[1], f[159]), (1, 3, 319));
    for _ in 0..10 {
        p.command(t0, &OutputCommand::SpeedDown(SpeedDown))
            .expect("acknowledged");
    }
    assert_eq!(p.speed(), 1.0);
    p.command(t0, &OutputCommand::SpeedDown(SpeedDown))
        .expect("acknowledged");
    p.frame(t0 + MS20, &mut f);
    assert_eq!(p.position(), Duration::from_millis(40 + 18), "0.9 × 20 ms");
    assert_eq!((f[0], f[10]), (321, 330));
}

#[test]
fn volume_changes_by_3_db_and_saturates() {
    let t0 = Instant::now();
    let mut p = Player::new(&Output::default(), docs(&[vec![10000; 1600]]), t0);
    let mut f = [0; FRAME];
    p.command(t0, &OutputCommand::VolumeDown(VolumeDown))
        .expect("acknowledged");
    p.frame(t0, &mut f);
    assert_eq!(f[0], 7079, "-3 dB");
    for _ in 0..20 {
        p.command(t0, &OutputCommand::VolumeUp(VolumeUp))
            .expect("acknowledged");
    }
    assert_eq!(p.volume_db(), VOLUME_MAX_DB);
    p.frame(t0 + MS20, &mut f);
    assert_eq!(f[0], i16::MAX, "clipped, not wrapped");
}

#[test]
fn empty_output_finishes_at_once() {
    let mut p = Player::new(&Output::default(), docs(&[vec![]]), Instant::now());
    assert_eq!(p.poll_complete(), Some(FINISH));
    assert_eq!(p.poll_complete(), None);
}

fn command() -> impl Strategy<Value = OutputCommand> {
    prop_oneof![
        Just(OutputCommand::Pause(Pause)),
        Just(OutputCommand::Resume(Resume)),
        Just(OutputCommand::SpeedUp(SpeedUp)),
        Just(OutputCommand::SpeedDown(SpeedDown)),
        Just(OutputCommand::VolumeUp(VolumeUp)),
        Just(OutputCommand::VolumeDown(VolumeDown)),
        (any::<bool>(), 1u64..3000).prop_map(|(f, ms)| seek(
            if f {
                o::SeekDirection::Forward
            } else {
                o::SeekDirection::Back
            },
            ms
        )),
    ]
}

proptest! {
    #[test]
    fn frames_reproduce_the_documents(parts in proptest::collection::vec(proptest::collection::vec(any::<i16>(), 0..500), 1..4), times in 1u64..3) {
        let t0 = Instant::now();
        let spec = Output { repeat_times: Some(times), ..Output::default() };
        let all: Vec<i16> = parts.concat();
        let mut p = Player::new(&spec, docs(&parts), t0);
        let (got, _) = run(&mut p, t0, 0, 40);
        let want: Vec<i16> = (0..times).flat_map(|_| all.iter().copied()).collect();
        prop_assert_eq!(&got[..want.len()], want.as_slice());
        prop_assert!(p.is_complete());
    }

    #[test]
    fn any_commands_never_panic_and_end_by_max_time(cmds in proptest::collection::vec((0u32..100, command()), 0..30)) {
        let t0 = Instant::now();
        let spec = Output { repeat_times: Some(0), max_time: Some(Duration::from_secs(2)), ..Output::default() };
        let mut p = Player::new(&spec, docs(&[ramp(3000)]), t0);
        let mut f = [0; FRAME];
        let mut done = None;
        for i in 0..101u32 {
            for (_, c) in cmds.iter().filter(|(at, _)| *at == i) {
                let _ = p.command(t0 + MS20 * i, c);
            }
            p.frame(t0 + MS20 * i, &mut f);
            if let Some(r) = p.poll_complete() { done = Some((i, r)); break; }
        }
        prop_assert_eq!(done, Some((100, MAX_TIME)));
    }
}
