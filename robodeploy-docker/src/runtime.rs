//! [`DockerRuntime`]: the [`Runtime`] over one Docker engine.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use bytes::Bytes;
use futures_util::future::join_all;
use robodeploy_core::runtime::{
    Capabilities, EventReceiver, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, LogOptions,
    LogReceiver, Runtime, RuntimeError, TaskSpec, labels,
};
use tokio::sync::{Mutex, RwLock, broadcast};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::config::{ConfigError, DockerConfig, Endpoint, Placement};
use crate::container_spec::{create_body, is_bind, validate};
use crate::error::{engine_message, from_bollard, from_bollard_for, status_of};
use crate::event_pump::{self, Subscribers};
use crate::image::{self, PullProgress};
use crate::{exec, logs, resources, state, task_sweep};

/// Pull progress messages buffered for slow listeners.
const PROGRESS_BUFFER: usize = 256;

/// Networks Docker provides itself; never created nor removed.
const BUILTIN_NETWORKS: [&str; 4] = ["bridge", "host", "none", "default"];

/// A [`Runtime`] whose instances are containers on one Docker engine.
///
/// Build one per device (and one for the cloud) with [`DockerRuntime::new`]; nothing is sent to
/// the engine until the first call, so a runtime can be built while its robot is offline. Every
/// call negotiates the API version first if that has not succeeded yet.
///
/// ```no_run
/// use robodeploy_core::runtime::Runtime;
/// use robodeploy_docker::{DockerRuntime, Placement};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let rt = DockerRuntime::local(Placement::Device)?;
/// rt.health().await?;
/// assert!(rt.capabilities().enforces_restart_policy);
/// # Ok(()) }
/// ```
pub struct DockerRuntime {
    config: DockerConfig,
    client: Arc<Client>,
    subscribers: Arc<Subscribers>,
    pump: Mutex<Option<JoinHandle<()>>>,
    /// Starts hold it shared while they ensure networks/volumes and create; removals hold it
    /// exclusively while they release them.
    resources: RwLock<()>,
    /// Serialises creating networks and volumes (Docker 20.10 would create two of one name).
    creating: Mutex<()>,
    progress: broadcast::Sender<PullProgress>,
}

impl std::fmt::Debug for DockerRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerRuntime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DockerRuntime {
    /// A runtime for the engine `config` describes. Fails only when the client cannot be built
    /// (unreadable certificates, an unsupported `DOCKER_HOST`); an engine that is down is found
    /// out by the first call.
    pub fn new(config: DockerConfig) -> Result<Self, ConfigError> {
        let timeout = config.request_timeout.as_secs().max(1);
        let client = Client::new(&config.endpoint, timeout)?;
        let (progress, _) = broadcast::channel(PROGRESS_BUFFER);
        Ok(DockerRuntime {
            config,
            client: Arc::new(client),
            subscribers: Arc::new(Subscribers::default()),
            pump: Mutex::new(None),
            resources: RwLock::new(()),
            creating: Mutex::new(()),
            progress,
        })
    }

    /// A runtime for the local engine (`DOCKER_HOST`, else the default socket), no registry.
    pub fn local(placement: Placement) -> Result<Self, ConfigError> {
        DockerRuntime::new(DockerConfig::new(Endpoint::Local, placement))
    }

    /// Its configuration.
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// Progress of the pulls [`prepare`](Runtime::prepare) makes, from now on.
    pub fn pull_progress(&self) -> broadcast::Receiver<PullProgress> {
        self.progress.subscribe()
    }

    /// Creates image `repo:tag` from a root filesystem tarball (`docker import`): how an image
    /// reaches a robot that has no registry.
    pub async fn import_rootfs(
        &self,
        repo: &str,
        tag: &str,
        tar: Bytes,
    ) -> Result<(), RuntimeError> {
        image::import_rootfs(self.client.get().await?, repo, tag, tar).await
    }

    /// Whether the engine holds `image`.
    pub async fn has_image(&self, image: &str) -> Result<bool, RuntimeError> {
        image::is_present(self.client.get().await?, image).await
    }

    async fn inspect_raw(&self, id: &str) -> Result<ContainerInspectResponse, RuntimeError> {
        self.client
            .get()
            .await?
            .inspect_container(id, None)
            .await
            .map_err(|e| from_bollard_for(id, &format!("inspecting {id}"), e))
    }

    /// Creates the spec's network and named volumes when missing.
    async fn ensure_resources(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        let docker = self.client.get().await?;
        let deployment = spec.deployment.to_string();
        let _one_creator = self.creating.lock().await;
        if let Some(network) = spec
            .network
            .as_deref()
            .filter(|n| !BUILTIN_NETWORKS.contains(n))
        {
            resources::ensure_network(docker, network, &deployment).await?;
        }
        for m in spec.mounts.iter().filter(|m| !is_bind(m)) {
            resources::ensure_volume(docker, &m.source, &deployment).await?;
        }
        Ok(())
    }

    /// Releases the networks and named volumes a removed container used.
    async fn release_resources(&self, c: &ContainerInspectResponse) -> Result<(), RuntimeError> {
        let docker = self.client.get().await?;
        let mut networks: Vec<String> = c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .map(|n| n.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(mode) = c.host_config.as_ref().and_then(|h| h.network_mode.clone()) {
            networks.push(mode);
        }
        networks.sort();
        networks.dedup();
        let volumes: Vec<String> = c
            .mounts
            .iter()
            .flatten()
            .filter(|m| m.typ.as_deref() == Some("volume"))
            .filter_map(|m| m.name.clone())
            .collect();
        let _exclusive = self.resources.write().await;
        let mut failures = Vec::new();
        for n in networks
            .iter()
            .filter(|n| !BUILTIN_NETWORKS.contains(&n.as_str()) && !n.starts_with("container:"))
        {
            if let Err(e) = resources::release_network(docker, n).await {
                failures.push(e.to_string());
            }
        }
        if !self.config.keep_volumes {
            for v in &volumes {
                if let Err(e) = resources::release_volume(docker, v).await {
                    failures.push(e.to_string());
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::internal(failures.join("; ")))
        }
    }

    async fn create_and_start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        let body = create_body(spec)?;
        let image = validate(spec)?.to_owned();
        let docker = self.client.get().await?;
        let created = {
            let _shared = self.resources.read().await;
            self.ensure_resources(spec).await?;
            let options = CreateContainerOptions {
                name: Some(spec.name.clone()),
                ..CreateContainerOptions::default()
            };
            docker
                .create_container(Some(options), body)
                .await
                .map_err(|e| match status_of(&e) {
                    Some(409) => RuntimeError::AlreadyExists(spec.name.clone()),
                    Some(404) => RuntimeError::NotFound {
                        what: format!("{image} ({})", engine_message(&e)),
                    },
                    Some(400) => RuntimeError::InvalidSpec {
                        field: "container",
                        message: format!("{}: {}", spec.name, engine_message(&e)),
                    },
                    _ => from_bollard(&format!("creating {}", spec.name), e),
                })?
        };
        if let Err(e) = docker.start_container(&created.id, None).await {
            let message = engine_message(&e);
            let error = if status_of(&e).is_some()
                && (message.contains("executable file not found")
                    || message.contains("no such file or directory"))
            {
                RuntimeError::NotFound {
                    what: format!(
                        "{} in {image} ({message})",
                        spec.command.first().map_or("the command", String::as_str)
                    ),
                }
            } else {
                from_bollard(&format!("starting {}", spec.name), e)
            };
            // Leave nothing half-made: a start either runs the instance or leaves no trace.
            let cleanup = force_remove(docker, &created.id).await;
            if let Err(ce) = cleanup {
                tracing::error!(container = %spec.name, error = %ce, "could not remove a container that failed to start");
            }
            return Err(error);
        }
        Ok(InstanceId(created.id))
    }

    async fn ensure_pump(&self) -> Result<(), RuntimeError> {
        let mut pump = self.pump.lock().await;
        if pump.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        // Follow from the engine's own clock, so nothing between this call and the stream
        // opening is missed and a remote engine's clock skew does not matter.
        let docker = self.client.get().await?;
        let info = docker
            .info()
            .await
            .map_err(|e| from_bollard("reading the engine's clock", e))?;
        let since = info
            .system_time
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(jiff::Timestamp::now);
        let since_nanos = i64::try_from(since.as_nanosecond()).unwrap_or(i64::MAX);
        *pump = Some(tokio::spawn(event_pump::run(
            Arc::clone(&self.client),
            Arc::clone(&self.subscribers),
            since_nanos,
        )));
        Ok(())
    }
}

impl Drop for DockerRuntime {
    fn drop(&mut self) {
        if let Some(handle) = self.pump.get_mut().take() {
            handle.abort();
        }
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn name(&self) -> String {
        format!("docker:{}", self.config.endpoint)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            enforces_restart_policy: true,
            survives_engine_restart: true,
            exec: true,
            images: true,
        }
    }

    async fn health(&self) -> Result<(), RuntimeError> {
        self.client
            .get()
            .await?
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| from_bollard("pinging the engine", e))
    }

    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        let image = validate(spec)?;
        let docker = self.client.get().await?;
        image::ensure(docker, image, self.config.registry.as_ref(), &self.progress).await
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        self.create_and_start(spec).await
    }

    async fn stop(&self, id: &InstanceId, grace: Duration) -> Result<(), RuntimeError> {
        let docker = self.client.get().await?;
        self.subscribers.mark_stopping(&id.0);
        let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let options = StopContainerOptions {
            t: Some(i32::try_from(secs).unwrap_or(i32::MAX)),
            signal: None,
        };
        docker
            .stop_container(&id.0, Some(options))
            .await
            .map_err(|e| from_bollard_for(&id.0, &format!("stopping {id}"), e))
    }

    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError> {
        let inspected = self.inspect_raw(&id.0).await?;
        let docker = self.client.get().await?;
        docker
            .remove_container(
                &id.0,
                Some(RemoveContainerOptions {
                    v: true,
                    force: false,
                    ..RemoveContainerOptions::default()
                }),
            )
            .await
            .map_err(|e| from_bollard_for(&id.0, &format!("removing {id}"), e))?;
        self.release_resources(&inspected).await
    }

    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
        Ok(state::instance_info(&self.inspect_raw(&id.0).await?))
    }

    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError> {
        let docker = self.client.get().await?;
        task_sweep::sweep_tasks(docker, self.config().abandoned_task_age).await;
        let mut wanted = vec![format!("{}=true", labels::MANAGED)];
        wanted.extend(selector.iter().map(|(k, v)| format!("{k}={v}")));
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("label".to_owned(), wanted)])),
            ..ListContainersOptions::default()
        };
        let summaries = docker
            .list_containers(Some(options))
            .await
            .map_err(|e| from_bollard("listing containers", e))?;
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspected = join_all(ids.iter().map(|id| self.inspect_raw(id))).await;
        let mut out = Vec::with_capacity(ids.len());
        for result in inspected {
            match result {
                Ok(c) => out.push(state::instance_info(&c)),
                // Removed between the listing and the inspection: no longer held.
                Err(RuntimeError::NoSuchInstance(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn events(&self) -> Result<EventReceiver, RuntimeError> {
        let rx = self.subscribers.subscribe();
        self.ensure_pump().await?;
        Ok(rx)
    }

    async fn logs(
        &self,
        id: &InstanceId,
        options: LogOptions,
    ) -> Result<LogReceiver, RuntimeError> {
        // Asked first so an unknown id is an error, not an empty stream.
        self.inspect_raw(&id.0).await?;
        Ok(logs::stream(self.client.get().await?, &id.0, options))
    }

    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError> {
        exec::exec(self.client.get().await?, &id.0, command).await
    }

    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
        let image = task
            .image
            .as_deref()
            .filter(|i| !i.trim().is_empty())
            .ok_or(RuntimeError::InvalidSpec {
                field: "image",
                message: "a task on a Docker runtime needs an image".to_owned(),
            })?;
        let docker = self.client.get().await?;
        image::ensure(docker, image, self.config.registry.as_ref(), &self.progress).await?;
        let name = format!("rd-task-{}", uuid::Uuid::new_v4().simple());
        exec::run_task(docker, &name, image, task).await
    }
}

/// Removes a container and its anonymous volumes whatever its state: what a start or a task
/// that failed half-way leaves is cleaned up with it.
pub(crate) async fn force_remove(
    docker: &bollard::Docker,
    id: &str,
) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..RemoveContainerOptions::default()
    };
    docker.remove_container(id, Some(options)).await
}
