//! Runtimes for the devices a store holds, made by the application once at start.

use std::sync::Arc;

use crate::model::Device;
use crate::runtime::Runtime;

/// Makes the runtime of a device the engine's store holds, so a restarted engine brings its
/// devices back while it loads, without the application registering each one again.
///
/// Given to [`EngineBuilder::runtime_factory`](super::EngineBuilder::runtime_factory). At start,
/// for every stored device, the engine calls [`runtime_for`](RuntimeFactory::runtime_for) with
/// the device as registered and the name its runtime had then
/// ([`Runtime::name`]); a runtime returned is registered at once, as
/// [`add_devices`](super::Engine::add_devices) would register it (same id, what jobs installed
/// on it kept, nothing written to the store). `None` leaves the device waiting for the
/// application's own `add_device`, as without a factory. The factory is called on the engine's
/// task: it must not block (build a client, do not connect; the engine reconciles once the
/// runtime answers).
///
/// Any `Fn(&Device, &str) -> Option<Arc<dyn Runtime>>` is a factory:
///
/// ```
/// use std::sync::Arc;
/// use robodeploy_core::engine::Engine;
/// use robodeploy_core::model::Device;
/// use robodeploy_core::runtime::{MemoryRuntime, Runtime};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let engine = Engine::builder()
///     .runtime_factory(|device: &Device, _runtime: &str| {
///         Some(Arc::new(MemoryRuntime::new(device.name.as_str())) as Arc<dyn Runtime>)
///     })
///     .start();
/// # engine.shutdown().await.unwrap();
/// # }
/// ```
pub trait RuntimeFactory: Send + Sync + 'static {
    /// The runtime for `device`, whose runtime was named `runtime` when it was registered;
    /// `None` when this factory does not make it.
    fn runtime_for(&self, device: &Device, runtime: &str) -> Option<Arc<dyn Runtime>>;
}

impl<F> RuntimeFactory for F
where
    F: Fn(&Device, &str) -> Option<Arc<dyn Runtime>> + Send + Sync + 'static,
{
    fn runtime_for(&self, device: &Device, runtime: &str) -> Option<Arc<dyn Runtime>> {
        self(device, runtime)
    }
}
