//! The cost of one status call for a running deployment, side by side: the engine's async API
//! from Rust (`Engine::status`, blocked on from a plain thread as the C ABI does), and the C
//! ABI's `rd_engine_status` called through its `extern "C"` function (JSON out, freed with
//! `rd_string_free`). The deployment runs on an in-memory device, so what is measured is the
//! engine round trip plus, for the C ABI, argument checks, JSON encoding and the string's
//! allocation. The Python figure comes from `python/benchmarks/status.py`.

use std::ffi::{CStr, CString, c_char};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use robodeploy::{
    rd_engine, rd_engine_add_memory_device, rd_engine_add_package, rd_engine_deploy,
    rd_engine_free, rd_engine_new, rd_engine_shutdown, rd_engine_status, rd_engine_wait, rd_result,
    rd_string_free, rd_until,
};
use robodeploy_core::engine::{Engine, Until};
use robodeploy_core::model::{DeploymentRequest, Device, Package};
use robodeploy_core::runtime::MemoryRuntime;

const DEVICE: &str = r#"{"name": "r1", "architecture": "amd64", "runtime": "preinstalled"}"#;
const PACKAGE: &str = r#"{"name": "demo", "version": "1", "components": [{"name": "main",
  "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
  "executables": [{"name": "node", "command": ["/usr/bin/demo-node"]}]}]}"#;
const REQUEST: &str =
    r#"{"name": "d1", "package": "demo", "version": "1", "devices": {"main": "r1"}}"#;

fn rust_status(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let engine = rt.block_on(async {
        let engine = Engine::builder().start();
        let device: Device = serde_json::from_str(DEVICE).unwrap();
        engine
            .add_device(device, Arc::new(MemoryRuntime::new("r1")))
            .await
            .unwrap();
        let package: Package = serde_json::from_str(PACKAGE).unwrap();
        engine.add_package(package).await.unwrap();
        engine
    });
    let request: DeploymentRequest = serde_json::from_str(REQUEST).unwrap();
    let id = rt.block_on(engine.deploy(request, None)).unwrap();
    rt.block_on(engine.wait_for(id, Until::Running, Duration::from_secs(20)))
        .unwrap();
    c.bench_function("status/rust", |b| {
        b.iter(|| black_box(rt.block_on(engine.status(black_box(id))).unwrap()))
    });
    rt.block_on(engine.shutdown()).unwrap();
}

/// Calls a C ABI function that writes a string, asserting success; returns the string.
fn take(call: impl FnOnce(*mut *mut c_char) -> rd_result) -> String {
    let mut out: *mut c_char = std::ptr::null_mut();
    assert_eq!(call(&mut out), rd_result::RD_OK);
    // SAFETY: RD_OK wrote a NUL-terminated string the library owns until rd_string_free.
    let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    // SAFETY: returned by the library, freed once.
    unsafe { rd_string_free(out) };
    s
}

fn c_abi_status(c: &mut Criterion) {
    let device = CString::new(DEVICE).unwrap();
    let package = CString::new(PACKAGE).unwrap();
    let request = CString::new(REQUEST).unwrap();
    let mut engine: *mut rd_engine = std::ptr::null_mut();
    // SAFETY: NULL options, a writable output; every later call passes this live engine and
    // NUL-terminated strings that outlive the call.
    unsafe {
        assert_eq!(
            rd_engine_new(std::ptr::null(), &mut engine),
            rd_result::RD_OK
        );
        assert_eq!(
            rd_engine_add_memory_device(engine, device.as_ptr()),
            rd_result::RD_OK
        );
        assert_eq!(
            rd_engine_add_package(engine, package.as_ptr()),
            rd_result::RD_OK
        );
    }
    // SAFETY: as above.
    let id =
        take(|out| unsafe { rd_engine_deploy(engine, request.as_ptr(), std::ptr::null(), out) });
    let id = CString::new(id).unwrap();
    let until = rd_until::RD_UNTIL_RUNNING as u32;
    // SAFETY: as above.
    take(|out| unsafe { rd_engine_wait(engine, id.as_ptr(), until, 20_000, out) });
    c.bench_function("status/c_abi", |b| {
        b.iter(|| {
            let mut out: *mut c_char = std::ptr::null_mut();
            // SAFETY: a live engine, a NUL-terminated id, a writable output; the string is
            // freed once right after.
            unsafe {
                assert_eq!(
                    rd_engine_status(engine, id.as_ptr(), &mut out),
                    rd_result::RD_OK
                );
                black_box(out);
                rd_string_free(out);
            }
        })
    });
    // SAFETY: the live engine, shut down then freed once.
    unsafe {
        assert_eq!(rd_engine_shutdown(engine, 20_000), rd_result::RD_OK);
        rd_engine_free(engine);
    }
}

criterion_group!(benches, rust_status, c_abi_status);
criterion_main!(benches);
