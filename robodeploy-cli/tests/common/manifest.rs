//! The manifest documents the CLI's tests apply, built here so that a test names only what it
//! varies (names, versions, scripts, rollout settings) and the format's shape is written once.
//! Every string is written as a JSON string, which YAML reads as it is: scripts need no
//! hand-made escaping.

/// `value` as a quoted YAML scalar.
fn quoted(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

/// `pairs` as a YAML flow mapping with quoted values, e.g. `{A: "1", B: "2"}`.
fn mapping(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}: {}", quoted(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// A robot on this machine: amd64, the `preinstalled` (process) runtime.
pub(crate) fn robot(name: &str) -> String {
    format!("{{name: {name}, architecture: amd64, runtime: preinstalled}}")
}

/// A robot on this machine served by its Docker engine.
pub(crate) fn docker_robot(name: &str) -> String {
    format!("{{name: {name}, architecture: amd64, runtime: docker}}")
}

/// A robot reached through the agent named as the robot.
pub(crate) fn remote_robot(name: &str) -> String {
    format!(
        "{{name: {name}, architecture: amd64, runtime: preinstalled, connection: {{agent: {name}}}}}"
    )
}

/// `count` local robots named `<tag>-r<n>`, n from 1.
pub(crate) fn robots(tag: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| robot(&format!("{tag}-r{i}"))).collect()
}

/// A `Fleet` document named `name` with `labels`, of `robots` (as `robot` and its kin write
/// them).
pub(crate) fn fleet(name: &str, labels: &[(&str, &str)], robots: &[String]) -> String {
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!("  labels: {}\n", mapping(labels))
    };
    let robots: Vec<String> = robots.iter().map(|r| format!("    - {r}\n")).collect();
    format!(
        "---\napiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: {name}\n{labels}  robots:\n{}",
        robots.concat()
    )
}

/// A `Package` document: one component `main` with one executable `main` that runs
/// `sh -c script`, on the `preinstalled` runtime, under `restart` (None: the default policy).
pub(crate) fn package(name: &str, version: &str, restart: Option<&str>, script: &str) -> String {
    package_on("preinstalled", None, name, version, restart, script)
}

/// A `Package` like [`package`] whose executable runs in a container of `image` on the
/// `docker` runtime.
pub(crate) fn docker_package(
    name: &str,
    version: &str,
    image: &str,
    restart: Option<&str>,
    script: &str,
) -> String {
    package_on("docker", Some(image), name, version, restart, script)
}

fn package_on(
    runtime: &str,
    image: Option<&str>,
    name: &str,
    version: &str,
    restart: Option<&str>,
    script: &str,
) -> String {
    let restart = restart.map_or(String::new(), |r| format!("      restartPolicy: {r}\n"));
    let image = image.map_or(String::new(), |i| format!("          image: {i}\n"));
    let command = serde_json::to_string(&["sh", "-c", script]).expect("strings serialize");
    format!(
        "---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: {name}
  version: {version}
  components:
    - name: main
      placement: {{kind: device, runtime: {runtime}, architecture: amd64}}
{restart}      executables:
        - name: main
{image}          command: {command}
",
        version = quoted(version),
    )
}

/// A `Deployment` document named `name` of `package` at `version`, its component `main` on
/// robot `device`, with `env` (none when empty).
pub(crate) fn deployment(
    name: &str,
    package: &str,
    version: &str,
    device: &str,
    env: &[(&str, &str)],
) -> String {
    let env = if env.is_empty() {
        String::new()
    } else {
        format!("  env: {}\n", mapping(env))
    };
    format!(
        "---
apiVersion: robodeploy/v1
kind: Deployment
spec:
  name: {name}
  package: {package}
  version: {version}
  devices: {{main: {device}}}
{env}",
        version = quoted(version),
    )
}

/// A `DeploymentJob` document of a package (named as its application) on a fleet, whose
/// robots run `pre_launch` before the launch.
pub(crate) struct Job<'a> {
    /// The fleet's name.
    pub(crate) fleet: &'a str,
    /// The application (and package) name.
    pub(crate) application: &'a str,
    /// Its version.
    pub(crate) version: &'a str,
    /// The pre-launch script's path (relative to the manifest, or absolute).
    pub(crate) pre_launch: &'a str,
    /// The job's environment variables.
    pub(crate) env: &'a [(&'a str, &'a str)],
    /// `concurrentDeploymentPercentage`.
    pub(crate) concurrency: u32,
    /// `failureThresholdPercentage`.
    pub(crate) threshold: u32,
    /// `robotDeploymentTimeout`, e.g. `2m`.
    pub(crate) timeout: &'a str,
}

impl Job<'_> {
    /// The document.
    pub(crate) fn yaml(&self) -> String {
        let env = if self.env.is_empty() {
            String::new()
        } else {
            format!("    environmentVariables: {}\n", mapping(self.env))
        };
        format!(
            "---
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: {fleet}
  application: {app}
  applicationVersion: {version}
  launchConfig:
    packageName: {app}
    launchFile: app.launch
    preLaunchFile: {pre}
{env}  deploymentConfig:
    concurrentDeploymentPercentage: {concurrency}
    failureThresholdPercentage: {threshold}
    robotDeploymentTimeout: {timeout}
",
            fleet = self.fleet,
            app = self.application,
            version = quoted(self.version),
            pre = quoted(self.pre_launch),
            concurrency = self.concurrency,
            threshold = self.threshold,
            timeout = self.timeout,
        )
    }
}
