//! Packages, devices with their runtimes, and fleets: what an engine must know before it
//! deploys.

use std::ffi::c_char;
use std::path::Path;
use std::sync::Arc;

use robodeploy_core::model::{Device, Fleet, Package, Version};
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_process::ProcessRuntime;

use crate::boundary::{guard, handle_arg, json_arg, out_arg, str_arg, to_json, write_string};
use crate::engine::{act, rd_engine};
use crate::error::FfiError;
use crate::result::rd_result;

/// Adds a package version (JSON of the model's `Package`: `name`, `version`, `components`) to
/// the engine's catalog. Adding the identical version again is `RD_OK`; a different package
/// under an existing numbered version is `RD_ERR_CONFLICT` (versions are immutable).
///
/// The package is checked by the manifest validator first: an empty or badly formed name,
/// duplicate component or executable names, a preinstalled executable without a command, a
/// version that is not numbered, … are `RD_ERR_VALIDATION`, whose message names the field
/// (`spec.components[1].name`), the value and the rule, and nothing is added.
///
/// Returns `RD_OK`; `RD_ERR_VALIDATION` (details: the report), `RD_ERR_CONFLICT`,
/// `RD_ERR_INVALID_JSON`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `package_json` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_package(
    engine: *const rd_engine,
    package_json: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `package_json` NULL or
    // NUL-terminated).
    unsafe {
        act(
            engine,
            || json_arg::<Package>(package_json, "package_json", "package"),
            |en, p| async move { en.add_package(p).await },
        )
    }
}

fn add_device(e: &rd_engine, device: Device, runtime: Arc<dyn Runtime>) -> Result<(), FfiError> {
    e.run(e.engine()?.add_device(device, runtime)).map(drop)
}

/// Registers a device (JSON of the model's `Device`: `name`, `architecture`, `runtime`, …)
/// whose executables run in an in-memory runtime: nothing is executed, every executable starts
/// at once and runs until stopped, and its log is one line naming its command. For trying
/// robodeploy and for testing orchestration built on it.
///
/// Returns `RD_OK`; `RD_ERR_VALIDATION` (the device breaks a rule: its name, labels, ROS
/// distro; details: the report), `RD_ERR_CONFLICT` (a different device with that name),
/// `RD_ERR_INVALID_JSON`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `device_json` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_memory_device(
    engine: *const rd_engine,
    device_json: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `device_json` NULL or
    // NUL-terminated).
    unsafe {
        act(
            engine,
            || json_arg::<Device>(device_json, "device_json", "device"),
            |en, d| async move {
                let runtime = Arc::new(MemoryRuntime::new(format!("memory:{}", d.name)));
                en.add_device(d, runtime).await
            },
        )
    }
}

/// Registers a device whose executables run as local OS processes (device runtime
/// `preinstalled`), kept under `root_dir` (created if missing, mode 0700): their output logs,
/// pid and exit files. Executables outlive the engine; an engine started later with the same
/// `root_dir` adopts them.
///
/// The processes are watched by one supervisor per `root_dir` (the shim program), started on
/// demand and looked for in this order: the path in the environment variable
/// `ROBODEPLOY_PROCESS_SHIM`, `robodeploy-process-shim` next to the running program or in its
/// parent directory, then on `PATH`. Cargo builds it as
/// `robodeploy-process-shim` (package robodeploy-process) and as `robodeploy-ffi-shim`
/// (this package).
///
/// Returns `RD_OK`; `RD_ERR_SETUP` (the directory cannot be created or no shim is found: the
/// detail lists where it looked), `RD_ERR_VALIDATION`, `RD_ERR_CONFLICT`, `RD_ERR_INVALID_JSON`,
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `device_json` and `root_dir` are NULL or NUL-terminated
/// strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_process_device(
    engine: *const rd_engine,
    device_json: *const c_char,
    root_dir: *const c_char,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let device: Device = unsafe { json_arg(device_json, "device_json", "device") }?;
        // SAFETY: the caller's contract.
        let root = Path::new(unsafe { str_arg(root_dir, "root_dir") }?);
        e.check_live()?;
        let runtime = {
            let _entered = e.shared.enter();
            ProcessRuntime::builder(root).build().map_err(|err| {
                FfiError::new(
                    rd_result::RD_ERR_SETUP,
                    format!("process runtime for device {:?}: {err}", device.name),
                )
            })?
        };
        add_device(e, device, Arc::new(runtime))
    })
}

/// Registers a remote robot (JSON of the model's `Device`) reached through its device agent
/// (`robodeploy-agent`) over the engine's remote link (the `remote` option of
/// `rd_engine_new`): the agent named by the device's `connection` (`{"agent": "<name>"}`), or
/// without one the agent serving under the device's own name. The agent may connect later:
/// until it does, the device is offline (DEP_E151) and deployments on it wait.
///
/// Returns `RD_OK`; `RD_ERR_SETUP` (the engine was created without a `remote` link),
/// `RD_ERR_VALIDATION` (the device breaks a rule, its `connection.agent` included; details: the
/// report), `RD_ERR_CONFLICT` (a different device with that name), `RD_ERR_INVALID_JSON`,
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `device_json` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_remote_device(
    engine: *const rd_engine,
    device_json: *const c_char,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let device: Device = unsafe { json_arg(device_json, "device_json", "device") }?;
        e.check_live()?;
        let report = robodeploy_core::validate::validate_device(&device);
        if !report.is_ok() {
            return Err(FfiError::validation(&report));
        }
        let remote = e.remote.as_ref().ok_or_else(|| {
            FfiError::new(
                rd_result::RD_ERR_SETUP,
                "the engine has no remote link: create it with a `remote` option",
            )
        })?;
        let runtime = remote
            .runtime_of(&device)
            .map_err(|err| FfiError::new(rd_result::RD_ERR_VALIDATION, err.to_string()))?;
        add_device(e, device, Arc::new(runtime))
    })
}

/// Registers a fleet (JSON of the model's `Fleet`: `name`, `robots`); its robots must be
/// registered devices.
///
/// Returns `RD_OK`; `RD_ERR_NOT_FOUND` (a robot that is not a registered device),
/// `RD_ERR_VALIDATION`, `RD_ERR_INVALID_JSON`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `fleet_json` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_add_fleet(
    engine: *const rd_engine,
    fleet_json: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `fleet_json` NULL or
    // NUL-terminated).
    unsafe {
        act(
            engine,
            || json_arg::<Fleet>(fleet_json, "fleet_json", "fleet"),
            |en, f| async move { en.add_fleet(f).await },
        )
    }
}

/// The registered devices a component of a package version can be deployed on, as a JSON array
/// of the model's `Device`: the online devices with the component's architecture and device
/// runtime (and ROS distro, for a ROS component). `[]` for a cloud component.
///
/// Returns `RD_OK` and writes `*devices_json_out` (free with `rd_string_free`);
/// `RD_ERR_NOT_FOUND` (no such package version, or no such component in it),
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `package`, `version` and `component` are NULL or
/// NUL-terminated strings; `devices_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_eligible_devices(
    engine: *const rd_engine,
    package: *const c_char,
    version: *const c_char,
    component: *const c_char,
    devices_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(devices_json_out, "devices_json_out")?;
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let package = unsafe { str_arg(package, "package") }?;
        // SAFETY: the caller's contract.
        let version = Version::new(unsafe { str_arg(version, "version") }?);
        // SAFETY: the caller's contract.
        let component = unsafe { str_arg(component, "component") }?;
        let devices = e.run(e.engine()?.eligible_devices(package, &version, component))?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, to_json(&devices)?) }
    })
}
