//! The rule for tests that need a facility this machine may lack (a Docker engine): where it
//! is missing they say so loudly and pass, unless the facility is required
//! (`ROBODEPLOY_REQUIRE_DOCKER=1`, as CI sets): then they fail.

/// Whether a missing Docker engine fails a test instead of skipping it
/// (`ROBODEPLOY_REQUIRE_DOCKER=1`).
pub fn docker_required() -> bool {
    std::env::var("ROBODEPLOY_REQUIRE_DOCKER").is_ok_and(|v| v == "1")
}

/// Whether a local Docker engine could be there: `DOCKER_HOST` is set or
/// `/var/run/docker.sock` exists (whether it answers is the caller's to ask).
pub fn docker_socket_present() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
}

/// Skips the calling test for want of a Docker engine (`why`: what failed), saying so on
/// stderr; the caller then returns.
///
/// # Panics
/// When Docker is [required](docker_required): the test fails instead.
pub fn skip_without_docker(why: &str) {
    assert!(
        !docker_required(),
        "ROBODEPLOY_REQUIRE_DOCKER=1 but no Docker engine answers: {why}"
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: no Docker engine reachable ({why}). \
         Set ROBODEPLOY_REQUIRE_DOCKER=1 to make this a failure. !!!!!!!!\n"
    );
}

/// `result`'s value, or `None` after [skipping](skip_without_docker) for want of a Docker
/// engine (the error says why): for reaching the engine, e.g. building a local client or
/// asking its health.
///
/// # Panics
/// On an error when Docker is [required](docker_required).
pub fn docker_or_skip<T, E: std::fmt::Display>(result: Result<T, E>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            skip_without_docker(&e.to_string());
            None
        }
    }
}
