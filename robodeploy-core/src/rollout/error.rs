//! Why a rollout could not be created or an event could not be applied.

use thiserror::Error;

/// A rollout's configuration, fleet or event is not acceptable. Each variant names the field,
/// the value and the rule it broke.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// A percentage field is outside 1..=100.
    #[error("{field} is {value}, but it must be within 1..=100")]
    Percentage {
        /// The field, e.g. `concurrentDeploymentPercentage` or `waves[2].size`.
        field: String,
        /// The value given.
        value: u8,
    },
    /// The robot deployment timeout is outside the accepted range.
    #[error(
        "robotDeploymentTimeout is {value_secs} s, but it must be within {min_secs}..={max_secs} s"
    )]
    RobotTimeout {
        /// The value given, in seconds.
        value_secs: u64,
        /// The shortest accepted, in seconds.
        min_secs: u64,
        /// The longest accepted, in seconds.
        max_secs: u64,
    },
    /// A duration field is zero or too long to represent in milliseconds.
    #[error("{field} is {value_ms} ms, but it must be within 1..={max_ms} ms")]
    Duration {
        /// The field, e.g. `offlineDeadline`.
        field: String,
        /// The value given, in milliseconds (saturated).
        value_ms: u128,
        /// The longest accepted, in milliseconds.
        max_ms: u128,
    },
    /// A wave of zero robots.
    #[error("waves[{index}].size is 0 robots, but a wave must hold at least one robot")]
    EmptyWave {
        /// The wave's position in `waves`.
        index: usize,
    },
    /// The fleet has no robot.
    #[error("the fleet has no robot, but a job needs at least one")]
    EmptyFleet,
    /// The fleet has more robots than a rollout indexes.
    #[error("the fleet has {size} robots, but a rollout handles at most {max}")]
    FleetTooLarge {
        /// Robots in the fleet.
        size: usize,
        /// The most a rollout accepts.
        max: usize,
    },
    /// An event names a robot the rollout does not have.
    #[error("robot index {index} is out of range: the fleet has {fleet_size} robots")]
    UnknownRobot {
        /// The index given.
        index: u32,
        /// Robots in the rollout.
        fleet_size: u32,
    },
}
