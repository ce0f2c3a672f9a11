//! The simulator: the same seed gives the same report and timeline byte for byte; with no
//! failures the makespan never exceeds Graham's bound; every simulated job ends with every
//! robot settled.

use std::time::Duration;

use proptest::prelude::*;
use robodeploy_core::model::{JobStatus, Version, Wave, WaveSize};
use robodeploy_core::rollout::RobotIndex;
use robodeploy_core::sim::{Dist, FleetModel, SimOptions, Simulation, TimelineDetail};

fn cases() -> ProptestConfig {
    robodeploy_testkit::props::cases(10_000)
}

use robodeploy_testkit::model::rollout_config as config;

fn troubled_fleet() -> FleetModel {
    FleetModel {
        hang_probability: 0.01,
        offline_probability: 0.02,
        initially_offline_probability: 0.1,
        ..FleetModel::default().with_failure_rate(0.05)
    }
}

#[test]
fn the_same_seed_gives_the_same_timeline_byte_for_byte() {
    let mut c = config(10, 20);
    c.auto_rollback = true;
    c.waves = vec![Wave {
        size: WaveSize::Percent(10),
        soak: Some(Duration::from_secs(60)),
        manual_resume: true,
    }];
    let previous = Version::new("1.0");
    let run = |seed| {
        let options = SimOptions {
            seed,
            timeline: TimelineDetail::Full,
            resume_after: Some(Duration::from_secs(30)),
            ..SimOptions::default()
        };
        let out = Simulation::new(&c, 500, Some(&previous), troubled_fleet(), options)
            .unwrap()
            .run();
        serde_json::to_string(&out).unwrap()
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_ne!(a, run(12));
    assert!(
        a.contains("\"robotOffline\"") && a.contains("\"robotTimedOut\""),
        "the history is rich"
    );
}

#[test]
fn a_cancel_mid_job_aborts_and_rolls_back() {
    let mut c = config(10, 100);
    c.auto_rollback = true;
    let options = SimOptions {
        seed: 5,
        cancel_after: Some(Duration::from_secs(300)),
        ..SimOptions::default()
    };
    let out = Simulation::new(&c, 300, None, FleetModel::default(), options)
        .unwrap()
        .run();
    assert_eq!(out.report.status, JobStatus::Canceled);
    let rollback = out
        .report
        .rollback
        .expect("robots in sync were rolled back");
    assert_eq!(
        rollback.robots,
        out.report
            .robots
            .iter()
            .filter(|r| r.rollback.is_some())
            .count() as u32
    );
    assert!(out.report.counts.not_deployed > 0);
}

#[test]
fn a_manual_wave_nobody_resumes_stops_the_run_unfinished() {
    let mut c = config(10, 100);
    c.waves = vec![Wave::new(WaveSize::Robots(5)).with_manual_resume(true)];
    let out = Simulation::new(&c, 50, None, FleetModel::default(), SimOptions::default())
        .unwrap()
        .run();
    assert!(!out.stats.finished);
    assert_eq!(out.report.status, JobStatus::InProgress);
    assert_eq!(out.report.counts.in_sync, 5);
}

fn fleet_size() -> impl Strategy<Value = u32> {
    prop_oneof![16 => 1u32..=60, 3 => 61u32..=600, 1 => 601u32..=5_000]
}

proptest! {
    #![proptest_config(cases())]

    /// List scheduling's guarantee (Graham 1966): a work-conserving schedule of jobs on `m`
    /// slots ends by `total / m + longest`.
    #[test]
    fn the_makespan_never_exceeds_grahams_bound(
        robots in fleet_size(),
        concurrency in 1u8..=100,
        slow in 100u64..=1_000,
        seed in any::<u64>(),
    ) {
        let model = FleetModel {
            speed_percent: Dist::Uniform { min_ms: 20, max_ms: slow },
            prepare: Dist::Fixed { ms: 0 },
            ..FleetModel::default()
        };
        let mut c = config(concurrency, 100);
        c.robot_deployment_timeout = Duration::from_secs(7 * 24 * 3600);
        let options = SimOptions { seed, timeline: TimelineDetail::Off, ..SimOptions::default() };
        let out = Simulation::new(&c, robots, None, model, options).unwrap().run();
        prop_assert_eq!(out.report.status, JobStatus::Succeeded);
        prop_assert_eq!(out.report.counts.in_sync, robots);
        let s = out.stats;
        prop_assert!(s.makespan_ms >= s.lower_bound_ms(), "{s:?}");
        prop_assert!(s.makespan_ms <= s.graham_bound_ms(), "{s:?}");
    }

    #[test]
    fn every_simulated_job_ends_with_every_robot_settled(
        robots in fleet_size(),
        concurrency in 1u8..=100,
        threshold in 1u8..=100,
        auto_rollback in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut c = config(concurrency, threshold);
        c.auto_rollback = auto_rollback;
        c.offline_deadline = Some(Duration::from_secs(900));
        let options = SimOptions { seed, timeline: TimelineDetail::Off, ..SimOptions::default() };
        let sim = Simulation::new(&c, robots, None, troubled_fleet(), options).unwrap();
        let out = sim.run();
        prop_assert!(out.stats.finished);
        let limit = out.report.in_flight_limit;
        let failed = out.report.robots.iter().filter(|r| matches!(r.outcome, robodeploy_core::rollout::RobotOutcome::Failed { .. })).count() as u32;
        prop_assert!(failed <= out.report.failure_threshold + limit, "{failed} failed");
        for r in &out.report.robots {
            prop_assert!(r.status.is_terminal() || r.status == robodeploy_core::model::RobotStatus::Available,
                "{} ends {:?}", r.robot, r.status);
        }
        prop_assert_eq!(out.report.robots[0].robot, RobotIndex(0));
    }
}
