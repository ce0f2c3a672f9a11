//! A client of the server's HTTP API, as the CLI uses it.
//!
//! ```no_run
//! # async fn run() -> Result<(), robodeploy_cli::client::ClientError> {
//! use robodeploy_cli::client::Client;
//! let client = Client::new("http://127.0.0.1:7670", Some("the-token".into()))?;
//! for d in client.deployments().await? {
//!     println!("{}: {} {}", d.name, d.phase, d.status);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use futures_util::StreamExt;
use robodeploy_core::engine::{DeploymentStatus, JobReport};
use robodeploy_core::model::{Device, Fleet, JobId, Package};
use robodeploy_core::runtime::ExecOutput;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::api::{
    ApiError, ApplyReport, ApplyRequest, ExecRequest, LogEntry, LogQuery, ServerInfo,
};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server's URL is not one.
    #[error("server URL {url:?}: {message}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The server could not be reached (not running, wrong address) or the connection broke.
    #[error("cannot reach the server at {url}: {source} (is `robodeploy serve` running?)")]
    Unreachable {
        /// The server's URL.
        url: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// The server refused the request: a 4xx (the request is wrong) or 5xx (the server failed).
    #[error("{error}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's explanation.
        error: ApiError,
    },
    /// The server answered something that is not the API's.
    #[error("the server's answer to {what} is not the API's: {message}")]
    Protocol {
        /// The call.
        what: String,
        /// What is wrong.
        message: String,
    },
}

impl ClientError {
    /// Whether the server (not the request) is at fault: unreachable, a 5xx, a wrong answer.
    pub fn is_server_fault(&self) -> bool {
        match self {
            ClientError::Refused { status, .. } => *status >= 500,
            ClientError::Url { .. } => false,
            _ => true,
        }
    }
}

/// A client of one server.
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// How long a call may take, streams aside (an apply that replaces a deployment waits for it).
const CALL_TIMEOUT: Duration = Duration::from_secs(600);

impl Client {
    /// A client of the server at `url` (`http://127.0.0.1:7670`), with its bearer token.
    ///
    /// # Errors
    /// [`ClientError::Url`] when `url` is not an `http://` or `https://` URL.
    pub fn new(url: &str, token: Option<String>) -> Result<Client, ClientError> {
        Client::with_ca(url, token, None)
    }

    /// A client that also trusts the CA certificate `ca` (PEM) for an `https://` server.
    ///
    /// # Errors
    /// [`ClientError::Url`] when `url` is not an `http://` or `https://` URL, or `ca` is not a
    /// PEM certificate.
    pub fn with_ca(
        url: &str,
        token: Option<String>,
        ca: Option<&[u8]>,
    ) -> Result<Client, ClientError> {
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Url {
                url: url.to_owned(),
                message: "must start with http:// or https://".to_owned(),
            });
        }
        let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(5));
        if let Some(pem) = ca {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| ClientError::Url {
                url: url.to_owned(),
                message: format!("the CA certificate: {e}"),
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| ClientError::Url {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Client { base, token, http })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    async fn send(
        &self,
        what: &str,
        r: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = r.send().await.map_err(|source| ClientError::Unreachable {
            url: self.base.clone(),
            source,
        })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(response);
        }
        let bytes = self.body(response).await?;
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(error) => Err(ClientError::Refused { status, error }),
            Err(_) => Err(ClientError::Protocol {
                what: what.to_owned(),
                message: format!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            }),
        }
    }

    /// The whole body of `response`; a connection lost on the way is `Unreachable`.
    async fn body(&self, response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
        response
            .bytes()
            .await
            .map(Vec::from)
            .map_err(|source| ClientError::Unreachable {
                url: self.base.clone(),
                source,
            })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        what: &str,
        r: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self.send(what, r.timeout(CALL_TIMEOUT)).await?;
        let bytes = self.body(response).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(path, self.request(reqwest::Method::GET, path))
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.json(path, self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    /// `GET /v1/server`.
    pub async fn server(&self) -> Result<ServerInfo, ClientError> {
        self.get("/v1/server").await
    }

    /// `POST /v1/apply`.
    pub async fn apply(&self, request: &ApplyRequest) -> Result<ApplyReport, ClientError> {
        self.post("/v1/apply", request).await
    }

    /// `POST /v1/delete`.
    pub async fn delete(&self, request: &ApplyRequest) -> Result<ApplyReport, ClientError> {
        self.post("/v1/delete", request).await
    }

    /// `GET /v1/deployments`.
    pub async fn deployments(&self) -> Result<Vec<DeploymentStatus>, ClientError> {
        self.get("/v1/deployments").await
    }

    /// `GET /v1/deployments/{name}`: by name, or by id (also one that ended).
    pub async fn deployment(&self, name: &str) -> Result<DeploymentStatus, ClientError> {
        self.get(&format!("/v1/deployments/{}", segment(name)))
            .await
    }

    /// `DELETE /v1/deployments/{name}`: deprovisions it; its status once stopped.
    pub async fn deprovision(&self, name: &str) -> Result<DeploymentStatus, ClientError> {
        let path = format!("/v1/deployments/{}", segment(name));
        self.json(&path, self.request(reqwest::Method::DELETE, &path))
            .await
    }

    /// `POST /v1/deployments/{name}/exec`.
    pub async fn exec(&self, name: &str, request: &ExecRequest) -> Result<ExecOutput, ClientError> {
        self.post(&format!("/v1/deployments/{}/exec", segment(name)), request)
            .await
    }

    /// `GET /v1/jobs`.
    pub async fn jobs(&self) -> Result<Vec<JobReport>, ClientError> {
        self.get("/v1/jobs").await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: JobId) -> Result<JobReport, ClientError> {
        self.get(&format!("/v1/jobs/{id}")).await
    }

    /// `POST /v1/jobs/{id}/cancel`.
    pub async fn cancel_job(&self, id: JobId) -> Result<JobReport, ClientError> {
        self.post(&format!("/v1/jobs/{id}/cancel"), &()).await
    }

    /// `POST /v1/jobs/{id}/rollback`.
    pub async fn rollback_job(&self, id: JobId) -> Result<JobReport, ClientError> {
        self.post(&format!("/v1/jobs/{id}/rollback"), &()).await
    }

    /// `POST /v1/jobs/{id}/resume`.
    pub async fn resume_job(&self, id: JobId) -> Result<JobReport, ClientError> {
        self.post(&format!("/v1/jobs/{id}/resume"), &()).await
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self) -> Result<Vec<Device>, ClientError> {
        self.get("/v1/devices").await
    }

    /// `GET /v1/fleets`.
    pub async fn fleets(&self) -> Result<Vec<Fleet>, ClientError> {
        self.get("/v1/fleets").await
    }

    /// `GET /v1/packages`.
    pub async fn packages(&self) -> Result<Vec<Package>, ClientError> {
        self.get("/v1/packages").await
    }

    /// `GET /v1/deployments/{name}/logs`, line by line.
    pub async fn deployment_logs(
        &self,
        name: &str,
        query: &LogQuery,
    ) -> Result<mpsc::Receiver<Result<LogEntry, ClientError>>, ClientError> {
        self.logs(&format!("/v1/deployments/{}/logs", segment(name)), query)
            .await
    }

    /// `GET /v1/jobs/{id}/logs`, line by line.
    pub async fn job_logs(
        &self,
        id: JobId,
        query: &LogQuery,
    ) -> Result<mpsc::Receiver<Result<LogEntry, ClientError>>, ClientError> {
        self.logs(&format!("/v1/jobs/{id}/logs"), query).await
    }

    async fn logs(
        &self,
        path: &str,
        query: &LogQuery,
    ) -> Result<mpsc::Receiver<Result<LogEntry, ClientError>>, ClientError> {
        self.lines(path, self.request(reqwest::Method::GET, path).query(query))
            .await
    }

    /// `GET /v1/events`: every engine event from now on, each as the JSON the server sent.
    pub async fn events(
        &self,
    ) -> Result<mpsc::Receiver<Result<serde_json::Value, ClientError>>, ClientError> {
        self.lines(
            "/v1/events",
            self.request(reqwest::Method::GET, "/v1/events"),
        )
        .await
    }

    /// A JSON-lines stream, decoded line by line on a task.
    async fn lines<T: DeserializeOwned + Send + 'static>(
        &self,
        what: &str,
        r: reqwest::RequestBuilder,
    ) -> Result<mpsc::Receiver<Result<T, ClientError>>, ClientError> {
        let response = self.send(what, r).await?;
        let (tx, rx) = mpsc::channel(256);
        let url = self.base.clone();
        let what = what.to_owned();
        tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut pending: Vec<u8> = Vec::new();
            while let Some(chunk) = body.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(source) => {
                        let _ = tx.send(Err(ClientError::Unreachable { url, source })).await;
                        return;
                    }
                };
                pending.extend_from_slice(&chunk);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let item =
                        serde_json::from_slice::<T>(&line).map_err(|e| ClientError::Protocol {
                            what: what.clone(),
                            message: e.to_string(),
                        });
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }
}

/// A path segment: a name or id, with what a URL path cannot hold escaped.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn segments_escape_what_a_path_cannot_hold() {
        assert_eq!(segment("talker-1.a_b"), "talker-1.a_b");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
