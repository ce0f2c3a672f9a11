//! The key space: everything about robot `r` lives under `robodeploy/r/`.
//!
//! | key | what |
//! |---|---|
//! | `robodeploy/<robot>/rt/<call>` | the agent's queryable: one runtime call ([`crate::wire::Request::call`]) |
//! | `robodeploy/<robot>/events` | the runtime's events, numbered ([`crate::wire::Numbered`]) |
//! | `robodeploy/<robot>/alive` | the agent's liveliness token while it is up |
//! | `robodeploy/<robot>/logs/<stream>` | one log or output stream the orchestrator asked for |
//!
//! A robot's name becomes one chunk of a key expression, so it must not be empty and must not
//! hold `/` or the characters Zenoh gives a meaning (`*`, `$`, `?`, `#`): [`robot_chunk`]
//! checks it where a name enters. Queries name one robot's key exactly (access control allows
//! a robot its own keys only, by inclusion, so a wildcard query would not reach it).

use thiserror::Error;

/// The prefix of every key.
pub const ROOT: &str = "robodeploy";

/// A robot name that cannot be a chunk of a key expression.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("robot name {name:?} cannot name a Zenoh key: {rule}")]
pub struct KeyError {
    /// The name given.
    pub name: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

/// Checks that `robot` can be one chunk of a key expression, and returns it.
pub fn robot_chunk(robot: &str) -> Result<&str, KeyError> {
    let refuse = |rule| {
        Err(KeyError {
            name: robot.to_owned(),
            rule,
        })
    };
    if robot.is_empty() {
        return refuse("must not be empty");
    }
    if robot.contains('/') {
        return refuse("must not contain '/'");
    }
    if robot.contains(['*', '$', '?', '#']) {
        return refuse("must not contain '*', '$', '?' or '#'");
    }
    Ok(robot)
}

/// The key of one runtime call on `robot`'s agent.
pub fn call(robot: &str, call: &str) -> Result<String, KeyError> {
    Ok(format!("{ROOT}/{}/rt/{call}", robot_chunk(robot)?))
}

/// The key `robot`'s runtime events are published on.
pub fn events(robot: &str) -> Result<String, KeyError> {
    Ok(format!("{ROOT}/{}/events", robot_chunk(robot)?))
}

/// The key of `robot`'s liveliness token.
pub fn alive(robot: &str) -> Result<String, KeyError> {
    Ok(format!("{ROOT}/{}/alive", robot_chunk(robot)?))
}

/// The key of one log or output stream of `robot`.
pub fn logs(robot: &str, stream: u64) -> Result<String, KeyError> {
    Ok(format!("{ROOT}/{}/logs/{stream}", robot_chunk(robot)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_robot_has_its_own_keys() {
        assert_eq!(call("r1", "start").unwrap(), "robodeploy/r1/rt/start");
        assert_eq!(events("r1").unwrap(), "robodeploy/r1/events");
        assert_eq!(alive("r1").unwrap(), "robodeploy/r1/alive");
        assert_eq!(logs("r1", 7).unwrap(), "robodeploy/r1/logs/7");
    }

    #[test]
    fn a_name_that_would_reach_other_keys_is_refused_with_its_rule() {
        for (name, rule) in [
            ("", "must not be empty"),
            ("r1/rt", "must not contain '/'"),
            ("*", "must not contain '*', '$', '?' or '#'"),
            ("r$*", "must not contain '*', '$', '?' or '#'"),
            ("r#1", "must not contain '*', '$', '?' or '#'"),
        ] {
            let e = events(name).unwrap_err();
            assert_eq!((e.name.as_str(), e.rule), (name, rule));
        }
    }
}
