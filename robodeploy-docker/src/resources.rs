//! The networks and named volumes a deployment's containers use.
//!
//! A routed network is a Docker bridge network of that name; a named volume is a Docker volume.
//! Both are created when missing, labelled `io.robodeploy.managed=true` and
//! `io.robodeploy.created-by=<deployment id>`, and removed again when the last container using
//! them is removed — but only those robodeploy created: a network or volume that existed before
//! is never touched, and created volumes are kept when the runtime is configured with
//! `keep_volumes`. Bind mounts (host paths) are never created nor removed.
//!
//! Docker 20.10 allows two networks of one name, so creation is serialised within a runtime
//! (and so is removal against creation: a deployment joining a network while another's last
//! container leaves it must not see the network vanish between the check and the join).

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    InspectNetworkOptions, ListContainersOptions, RemoveVolumeOptions,
};
use robodeploy_core::runtime::{RuntimeError, labels};

use crate::error::{from_bollard, status_of};

/// Label naming the deployment that created a network or volume.
pub const CREATED_BY_LABEL: &str = "io.robodeploy.created-by";

fn resource_labels(deployment: &str) -> HashMap<String, String> {
    HashMap::from([
        (labels::MANAGED.to_owned(), "true".to_owned()),
        (CREATED_BY_LABEL.to_owned(), deployment.to_owned()),
    ])
}

fn is_managed(labels: Option<&HashMap<String, String>>) -> bool {
    labels
        .and_then(|l| l.get(labels::MANAGED))
        .map(String::as_str)
        == Some("true")
}

/// Creates network `name` unless it exists.
pub(crate) async fn ensure_network(
    docker: &Docker,
    name: &str,
    deployment: &str,
) -> Result<(), RuntimeError> {
    match docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if status_of(&e) == Some(404) => {}
        Err(e) => return Err(from_bollard(&format!("inspecting network {name}"), e)),
    }
    docker
        .create_network(NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".to_owned()),
            labels: Some(resource_labels(deployment)),
            ..NetworkCreateRequest::default()
        })
        .await
        .map_err(|e| from_bollard(&format!("creating network {name}"), e))?;
    tracing::info!(network = name, deployment, "created network");
    Ok(())
}

/// Creates named volume `name` unless it exists.
pub(crate) async fn ensure_volume(
    docker: &Docker,
    name: &str,
    deployment: &str,
) -> Result<(), RuntimeError> {
    match docker.inspect_volume(name).await {
        Ok(_) => return Ok(()),
        Err(e) if status_of(&e) == Some(404) => {}
        Err(e) => return Err(from_bollard(&format!("inspecting volume {name}"), e)),
    }
    docker
        .create_volume(VolumeCreateRequest {
            name: Some(name.to_owned()),
            labels: Some(resource_labels(deployment)),
            ..VolumeCreateRequest::default()
        })
        .await
        .map_err(|e| from_bollard(&format!("creating volume {name}"), e))?;
    tracing::info!(volume = name, deployment, "created volume");
    Ok(())
}

/// Whether any container (running or not) matches `filter=value`.
async fn in_use(docker: &Docker, filter: &str, value: &str) -> Result<bool, RuntimeError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(filter.to_owned(), vec![value.to_owned()])])),
        ..ListContainersOptions::default()
    };
    let found = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| from_bollard(&format!("listing containers using {value}"), e))?;
    Ok(!found.is_empty())
}

/// Removes network `name` if robodeploy created it and no container uses it any more.
pub(crate) async fn release_network(docker: &Docker, name: &str) -> Result<(), RuntimeError> {
    let network = match docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(n) => n,
        Err(e) if status_of(&e) == Some(404) => return Ok(()),
        Err(e) => return Err(from_bollard(&format!("inspecting network {name}"), e)),
    };
    if !is_managed(network.labels.as_ref()) || in_use(docker, "network", name).await? {
        return Ok(());
    }
    match docker.remove_network(name).await {
        Ok(()) => {
            tracing::info!(network = name, "removed network");
            Ok(())
        }
        Err(e) if status_of(&e) == Some(404) => Ok(()),
        Err(e) => Err(from_bollard(&format!("removing network {name}"), e)),
    }
}

/// Removes named volume `name` if robodeploy created it and no container uses it any more.
pub(crate) async fn release_volume(docker: &Docker, name: &str) -> Result<(), RuntimeError> {
    let volume = match docker.inspect_volume(name).await {
        Ok(v) => v,
        Err(e) if status_of(&e) == Some(404) => return Ok(()),
        Err(e) => return Err(from_bollard(&format!("inspecting volume {name}"), e)),
    };
    if !is_managed(Some(&volume.labels)) || in_use(docker, "volume", name).await? {
        return Ok(());
    }
    match docker
        .remove_volume(name, None::<RemoveVolumeOptions>)
        .await
    {
        Ok(()) => {
            tracing::info!(volume = name, "removed volume");
            Ok(())
        }
        Err(e) if status_of(&e) == Some(404) => Ok(()),
        Err(e) => Err(from_bollard(&format!("removing volume {name}"), e)),
    }
}
