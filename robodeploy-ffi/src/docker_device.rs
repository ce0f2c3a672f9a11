//! Devices whose executables run as containers on a Docker engine (robodeploy-docker's
//! `DockerRuntime`): the options `rd_engine_add_docker_device` reads, their checks, and the
//! export.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::model::{Device, DeviceRuntime};
use robodeploy_docker::RegistryConfig;
use robodeploy_docker::{ConfigError, DockerConfig, DockerRuntime, Endpoint, Placement};
use serde::Deserialize;

use crate::boundary::{guard, handle_arg, json_arg, opt_str_arg};
use crate::engine::rd_engine;
use crate::error::FfiError;
use crate::result::rd_result;

/// The argument the Docker options come in, for messages.
const ARG: &str = "docker_json";

/// The certificate files of a TLS endpoint (PEM).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Registry credentials for pulling missing images.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    server: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The options object of `rd_engine_add_docker_device`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DockerOptions {
    endpoint: Option<String>,
    tls: Option<TlsFiles>,
    ssh_key: Option<PathBuf>,
    registry: Option<Registry>,
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    request_timeout: Option<Duration>,
    #[serde(default)]
    keep_volumes: bool,
}

/// A broken endpoint rule, reported against the argument the endpoint came from.
fn endpoint_error(arg: &str, value: &str, rule: &str) -> FfiError {
    FfiError::config(arg, "endpoint", format!("{value:?}"), rule)
}

/// The endpoint: the options' `endpoint`, else the device's, else the local engine.
fn endpoint(options: &DockerOptions, device: &Device) -> Result<Endpoint, FfiError> {
    let given = match (&options.endpoint, &device.endpoint) {
        (Some(text), _) => Some((ARG, text.as_str())),
        (None, Some(text)) => Some(("device_json", text.as_str())),
        (None, None) => None,
    };
    let Some((arg, text)) = given else {
        if options.tls.is_some() {
            return Err(FfiError::config(
                ARG,
                "tls",
                "set",
                "needs a tcp:// or https:// endpoint",
            ));
        }
        if options.ssh_key.is_some() {
            return Err(FfiError::config(
                ARG,
                "sshKey",
                "set",
                "needs an ssh:// endpoint",
            ));
        }
        return Ok(Endpoint::Local);
    };
    if let Some(tls) = &options.tls {
        let rest = text
            .strip_prefix("tcp://")
            .or_else(|| text.strip_prefix("https://"));
        if rest.is_none_or(str::is_empty) {
            return Err(endpoint_error(
                arg,
                text,
                "a TLS endpoint must be tcp://host:port or https://host:port",
            ));
        }
        return Ok(Endpoint::Tls {
            url: text.to_owned(),
            ca: tls.ca.clone(),
            cert: tls.cert.clone(),
            key: tls.key.clone(),
        });
    }
    let parsed = Endpoint::parse(text).map_err(|e| match e {
        ConfigError::Endpoint { value, rule } => endpoint_error(arg, &value, rule),
        other => FfiError::config(arg, "endpoint", format!("{text:?}"), other),
    })?;
    match (parsed, &options.ssh_key) {
        (Endpoint::Ssh { url, .. }, Some(key)) => Ok(Endpoint::Ssh {
            url,
            key: Some(key.clone()),
        }),
        (_, Some(_)) => Err(FfiError::config(
            ARG,
            "sshKey",
            "set",
            format!("needs an ssh:// endpoint, not {text:?}"),
        )),
        (parsed, None) => Ok(parsed),
    }
}

/// Checks the device and the options, and builds the runtime's configuration.
fn docker_config(options: DockerOptions, device: &Device) -> Result<DockerConfig, FfiError> {
    if device.runtime != DeviceRuntime::Docker {
        return Err(FfiError::config(
            "device_json",
            "runtime",
            format!("{:?}", device.runtime.to_string()),
            "must be \"docker\" for a Docker device",
        ));
    }
    let mut config = DockerConfig::new(endpoint(&options, device)?, Placement::Device)
        .with_keep_volumes(options.keep_volumes);
    if let Some(timeout) = options.request_timeout {
        if timeout.is_zero() {
            return Err(FfiError::config(
                ARG,
                "requestTimeout",
                "0s",
                "must be positive",
            ));
        }
        config = config.with_request_timeout(timeout);
    }
    if let Some(r) = options.registry {
        config = config.with_registry(RegistryConfig {
            server: r.server,
            username: r.username,
            password: r.password,
        });
    }
    Ok(config)
}

/// Registers a device (JSON of the model's `Device`, with `"runtime": "docker"`) whose
/// executables run as containers on a Docker engine: an executable's `image` must be on that
/// engine, or pullable from the `registry` given.
///
/// `docker_json` may be NULL (the local engine, no registry) or an object with any of:
/// - `endpoint`: `unix:///path`, `tcp://host:port` (plain, for trusted links only),
///   `http://host:port` or `ssh://[user@]host[:port]` (the robot needs the Docker CLI). Left
///   out: the device's own `endpoint` field, else the local engine as the Docker CLI finds it
///   (`DOCKER_HOST`, else `/var/run/docker.sock`).
/// - `tls`: `{"ca", "cert", "key"}` PEM files, for a `tcp://` or `https://` endpoint served by
///   `dockerd --tlsverify`.
/// - `sshKey`: the private key file for an `ssh://` endpoint.
/// - `registry`: `{"server", "username", "password"}` (each optional) to pull missing images
///   from; without it a missing image fails to start with DEP_E162.
/// - `requestTimeout`: how long one request may wait for the engine (`"120s"`).
/// - `keepVolumes`: keep the named volumes robodeploy created after their last container is
///   removed (`false`).
///
/// Nothing is sent to the engine here: an engine that is down (a robot offline) is found by the
/// engine's health checks, which mark the device offline (DEP_E151) until it answers. Only a
/// local socket that does not exist fails at once (`RD_ERR_SETUP`).
///
/// Returns `RD_OK`; `RD_ERR_INVALID_CONFIG` (the device's runtime is not `docker`, an endpoint
/// that is not one of the forms above, `tls` or `sshKey` without a matching endpoint: the
/// detail names the field, the value and the rule), `RD_ERR_SETUP` (the Docker client cannot be
/// built: unreadable certificates, no such local socket), `RD_ERR_CONFLICT` (a different device with that
/// name), `RD_ERR_INVALID_JSON`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT` (`engine`,
/// `device_json`), `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `device_json` and `docker_json` are NULL or
/// NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_docker_device(
    engine: *const rd_engine,
    device_json: *const c_char,
    docker_json: *const c_char,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let device: Device = unsafe { json_arg(device_json, "device_json", "device") }?;
        // SAFETY: the caller's contract.
        let options: DockerOptions = match unsafe { opt_str_arg(docker_json, ARG) }? {
            Some(text) => serde_json::from_str(text)
                .map_err(|err| FfiError::json(ARG, "Docker options object", &err))?,
            None => DockerOptions::default(),
        };
        let config = docker_config(options, &device)?;
        e.check_live()?;
        let runtime = {
            let _entered = e.shared.enter();
            DockerRuntime::new(config).map_err(|err| {
                FfiError::new(
                    rd_result::RD_ERR_SETUP,
                    format!("Docker runtime for device {:?}: {err}", device.name),
                )
            })?
        };
        let engine = e.engine()?;
        e.run(engine.add_device(device, Arc::new(runtime)))
            .map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::model::Architecture;

    fn device(endpoint: Option<&str>) -> Device {
        let mut d = Device::new("dock-1", Architecture::Amd64, DeviceRuntime::Docker);
        d.endpoint = endpoint.map(str::to_owned);
        d
    }

    fn options(json: &str) -> DockerOptions {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_endpoint_comes_from_the_options_then_the_device_then_the_local_engine() {
        let c = docker_config(DockerOptions::default(), &device(None)).unwrap();
        assert_eq!(c.endpoint, Endpoint::Local);
        let c = docker_config(DockerOptions::default(), &device(Some("tcp://r7:2375"))).unwrap();
        assert_eq!(c.endpoint, Endpoint::Tcp("tcp://r7:2375".into()));
        let c = docker_config(
            options(r#"{"endpoint": "unix:///run/d.sock"}"#),
            &device(Some("tcp://r7:2375")),
        )
        .unwrap();
        assert_eq!(c.endpoint, Endpoint::Unix("/run/d.sock".into()));
        assert_eq!(c.placement, Placement::Device);
        assert!(c.registry.is_none());
    }

    #[test]
    fn tls_ssh_registry_and_timeouts_are_carried_over() {
        let c = docker_config(
            options(
                r#"{"endpoint": "tcp://r7:2376", "tls": {"ca": "/c/ca.pem", "cert": "/c/cert.pem",
                    "key": "/c/key.pem"}, "registry": {"server": "reg:5000", "username": "ci",
                    "password": "pw"}, "requestTimeout": "30s", "keepVolumes": true}"#,
            ),
            &device(None),
        )
        .unwrap();
        assert_eq!(
            c.endpoint,
            Endpoint::Tls {
                url: "tcp://r7:2376".into(),
                ca: "/c/ca.pem".into(),
                cert: "/c/cert.pem".into(),
                key: "/c/key.pem".into(),
            }
        );
        assert_eq!(
            c.registry.as_ref().unwrap().server.as_deref(),
            Some("reg:5000")
        );
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert!(c.keep_volumes);
        let c = docker_config(
            options(r#"{"endpoint": "ssh://ops@r7", "sshKey": "/k/id"}"#),
            &device(None),
        )
        .unwrap();
        assert_eq!(
            c.endpoint,
            Endpoint::Ssh {
                url: "ssh://ops@r7".into(),
                key: Some("/k/id".into())
            }
        );
    }

    #[test]
    fn broken_rules_name_the_argument_field_value_and_rule() {
        let cases = [
            (
                r#"{"endpoint": "ftp://r7"}"#,
                None,
                "argument `docker_json`: endpoint = \"ftp://r7\": \
                 must start with unix://, tcp://, http:// or ssh://",
            ),
            (
                "{}",
                Some("robot-7:2375"),
                "argument `device_json`: endpoint = \"robot-7:2375\": \
                 must start with unix://, tcp://, http:// or ssh://",
            ),
            (
                r#"{"endpoint": "unix:///s", "tls": {"ca": "a", "cert": "b", "key": "c"}}"#,
                None,
                "argument `docker_json`: endpoint = \"unix:///s\": \
                 a TLS endpoint must be tcp://host:port or https://host:port",
            ),
            (
                r#"{"sshKey": "/k"}"#,
                None,
                "argument `docker_json`: sshKey = set: needs an ssh:// endpoint",
            ),
            (
                r#"{"requestTimeout": "0s"}"#,
                None,
                "argument `docker_json`: requestTimeout = 0s: must be positive",
            ),
        ];
        for (json, dev_endpoint, message) in cases {
            let e = docker_config(options(json), &device(dev_endpoint)).unwrap_err();
            assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG, "{json}");
            assert_eq!(e.message, message, "{json}");
        }
        let mut d = device(None);
        d.runtime = DeviceRuntime::Preinstalled;
        let e = docker_config(DockerOptions::default(), &d).unwrap_err();
        assert_eq!(
            e.message,
            "argument `device_json`: runtime = \"preinstalled\": must be \"docker\" for a Docker device"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<DockerOptions>(r#"{"endpoint": "x", "tlz": {}}"#).is_err());
        assert!(serde_json::from_str::<DockerOptions>(r#"{"registry": {"user": "ci"}}"#).is_err());
    }
}
