//! Making an image available: use it when present, pull it when allowed, say why not otherwise.
//!
//! | image on the engine | registry configured | pull answer | error |
//! |---|---|---|---|
//! | present (tag, id or pinned digest) | – | – | none |
//! | missing | no | – | `PullFailed` ("not present") |
//! | missing | yes | 404 (no such image or tag) | `NotFound` |
//! | missing | yes | any other failure (registry unreachable, denied) | `PullFailed` |
//!
//! The engine itself unreachable is `Unreachable` at every step. The codes these give are the
//! engine's one table, [`RuntimeError::failure`](robodeploy_core::runtime::RuntimeError::failure).

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::CreateImageOptions;
use bytes::Bytes;
use futures_util::StreamExt;
use robodeploy_core::runtime::RuntimeError;
use tokio::sync::broadcast;

use crate::config::RegistryConfig;
use crate::error::{engine_message, from_bollard, is_unreachable, status_of};

/// One progress message of a pull, as the engine streams it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullProgress {
    /// The image being pulled.
    pub image: String,
    /// The engine's status text ("Pulling fs layer", "Downloading", "Pull complete").
    pub status: String,
    /// The layer it is about, when it is about one.
    pub layer: Option<String>,
    /// Bytes done of the layer, when known.
    pub current: Option<u64>,
    /// Layer size in bytes, when known.
    pub total: Option<u64>,
}

/// Whether the engine holds `image` (a tag, an id, or `name@sha256:…`).
pub(crate) async fn is_present(docker: &Docker, image: &str) -> Result<bool, RuntimeError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if status_of(&e) == Some(404) => Ok(false),
        Err(e) => Err(from_bollard(&format!("inspecting image {image}"), e)),
    }
}

/// Makes `image` available on the engine (see the module's table).
pub(crate) async fn ensure(
    docker: &Docker,
    image: &str,
    registry: Option<&RegistryConfig>,
    progress: &broadcast::Sender<PullProgress>,
) -> Result<(), RuntimeError> {
    if is_present(docker, image).await? {
        return Ok(());
    }
    let Some(registry) = registry else {
        return Err(RuntimeError::PullFailed {
            image: image.to_owned(),
            message: "image not present on the engine and no registry is configured".to_owned(),
        });
    };
    pull(docker, image, registry, progress).await?;
    if is_present(docker, image).await? {
        Ok(())
    } else {
        Err(RuntimeError::PullFailed {
            image: image.to_owned(),
            message: "the pull finished but the engine does not hold the image".to_owned(),
        })
    }
}

/// Pulls `image`, forwarding the engine's progress to `progress` (lagging receivers miss
/// messages, never the pull).
async fn pull(
    docker: &Docker,
    image: &str,
    registry: &RegistryConfig,
    progress: &broadcast::Sender<PullProgress>,
) -> Result<(), RuntimeError> {
    let options = CreateImageOptions {
        from_image: Some(image.to_owned()),
        ..CreateImageOptions::default()
    };
    let credentials =
        (registry.username.is_some() || registry.password.is_some()).then(|| DockerCredentials {
            username: registry.username.clone(),
            password: registry.password.clone(),
            serveraddress: registry.server.clone(),
            ..DockerCredentials::default()
        });
    let mut stream = docker.create_image(Some(options), None, credentials);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                let detail = info.progress_detail.unwrap_or_default();
                let message = PullProgress {
                    image: image.to_owned(),
                    status: info.status.unwrap_or_default(),
                    layer: info.id,
                    current: detail.current.and_then(|c| u64::try_from(c).ok()),
                    total: detail.total.and_then(|t| u64::try_from(t).ok()),
                };
                tracing::debug!(image, status = %message.status, layer = ?message.layer, "pull");
                // No receiver is fine: progress is for whoever listens.
                let _ = progress.send(message);
            }
            Err(e) if is_unreachable(&e) => {
                return Err(from_bollard(&format!("pulling {image}"), e));
            }
            Err(e) if status_of(&e) == Some(404) || means_no_such_image(&engine_message(&e)) => {
                return Err(RuntimeError::NotFound {
                    what: format!("{image} ({})", engine_message(&e)),
                });
            }
            Err(e) => {
                return Err(RuntimeError::PullFailed {
                    image: image.to_owned(),
                    message: engine_message(&e),
                });
            }
        }
    }
    Ok(())
}

/// Whether a pull error says the registry has no such image (as opposed to a registry that
/// could not be reached or refused). The engine reports it either as a 404 or, once the pull has
/// begun streaming, as the registry's own error text (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, Docker
/// Hub's "repository does not exist").
fn means_no_such_image(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "manifest unknown",
        "name unknown",
        "repository does not exist",
        "not found: manifest",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Creates `repo:tag` from a root filesystem tarball, as `docker import` does (the way to put an
/// image on an air-gapped robot without a registry).
pub(crate) async fn import_rootfs(
    docker: &Docker,
    repo: &str,
    tag: &str,
    tar: Bytes,
) -> Result<(), RuntimeError> {
    let options = CreateImageOptions {
        from_src: Some("-".to_owned()),
        repo: Some(repo.to_owned()),
        tag: Some(tag.to_owned()),
        ..CreateImageOptions::default()
    };
    let mut stream = docker.create_image(Some(options), Some(bollard::body_full(tar)), None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| from_bollard(&format!("importing {repo}:{tag}"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_a_missing_image_from_an_unreachable_registry() {
        assert!(means_no_such_image("manifest unknown"));
        assert!(means_no_such_image(
            "manifest for r.example/nav:1 not found: manifest unknown: manifest unknown"
        ));
        assert!(means_no_such_image(
            "pull access denied for nav, repository does not exist or may require 'docker login'"
        ));
        assert!(!means_no_such_image(
            "Get \"https://registry.invalid/v2/\": dial tcp: lookup registry.invalid: no such host"
        ));
        assert!(!means_no_such_image(
            "unauthorized: authentication required"
        ));
    }
}
