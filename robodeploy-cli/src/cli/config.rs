//! Which server a command talks to, with which token, and the config file that may say so.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::args::{Cli, Format};
use super::error::CliError;
use crate::client::Client;
use crate::server::DEFAULT_LISTEN;

/// The config file (YAML): `server`, `token`, `stateDir`, `caCert`, `output`. Every key is
/// optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// The server's URL.
    pub(crate) server: Option<String>,
    /// The server's token.
    pub(crate) token: Option<String>,
    /// The state directory.
    pub(crate) state_dir: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for an https server.
    pub(crate) ca_cert: Option<PathBuf>,
    /// The output format.
    #[serde(default, deserialize_with = "format")]
    pub(crate) output: Option<Format>,
}

/// An output format named as `--output` names it (`table`, `json`, `yaml`): the command line's
/// own reading (its type derives nothing but clap's, being compiled by the build script too).
fn format<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Format>, D::Error> {
    let Some(name) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    <Format as clap::ValueEnum>::from_str(&name, false)
        .map(Some)
        .map_err(|_| {
            let names: Vec<String> = <Format as clap::ValueEnum>::value_variants()
                .iter()
                .filter_map(clap::ValueEnum::to_possible_value)
                .map(|v| v.get_name().to_owned())
                .collect();
            serde::de::Error::custom(format!(
                "unknown output format {name:?}, expected one of {}",
                names.join(", ")
            ))
        })
}

/// The settings a command runs with: flags, then environment (clap reads both), then the
/// config file, then defaults.
pub(crate) struct Settings {
    pub(crate) server: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) state_dir: PathBuf,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) output: Format,
}

fn default_config_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("robodeploy").join("config.yaml"))
}

fn read_config(path: &Path, required: bool) -> Result<ConfigFile, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ConfigFile::default());
        }
        Err(source) => {
            return Err(CliError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_saphyr::from_str(&text)
        .map_err(|e| CliError::Usage(format!("config file {}: {e}", path.display())))
}

impl Settings {
    pub(crate) fn resolve(cli: &Cli) -> Result<Settings, CliError> {
        let file = match &cli.config {
            Some(path) => read_config(path, true)?,
            None => match default_config_path() {
                Some(path) => read_config(&path, false)?,
                None => ConfigFile::default(),
            },
        };
        Ok(Settings {
            server: cli.server.clone().or(file.server),
            token: cli.token.clone().or(file.token),
            state_dir: cli
                .state_dir
                .clone()
                .or(file.state_dir)
                .unwrap_or_else(|| PathBuf::from(".robodeploy")),
            ca_cert: cli.ca_cert.clone().or(file.ca_cert),
            output: cli.output.or(file.output).unwrap_or(Format::Table),
        })
    }

    /// A client of the server these settings name.
    pub(crate) fn client(&self) -> Result<Client, CliError> {
        let url = match &self.server {
            Some(url) => url.clone(),
            None => match std::fs::read_to_string(self.state_dir.join("endpoint")) {
                Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
                _ => format!("http://{DEFAULT_LISTEN}"),
            },
        };
        let token = match &self.token {
            Some(t) => Some(t.clone()),
            None => match std::fs::read_to_string(self.state_dir.join("token")) {
                Ok(text) => Some(text.trim().to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(CliError::Io {
                        path: self.state_dir.join("token"),
                        source,
                    });
                }
            },
        };
        let ca = match &self.ca_cert {
            Some(path) => Some(std::fs::read(path).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        Client::with_ca(&url, token, ca.as_deref()).map_err(|e| CliError::Usage(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_files_output_is_read_as_the_flag_reads_it() {
        let read = |text: &str| serde_saphyr::from_str::<ConfigFile>(text).map(|c| c.output);
        assert_eq!(read("output: json\n").unwrap(), Some(Format::Json));
        assert_eq!(read("output: yaml\n").unwrap(), Some(Format::Yaml));
        assert_eq!(read("server: http://x\n").unwrap(), None);
        assert_eq!(read("output: ~\n").unwrap(), None);
        let e = read("output: xml\n").unwrap_err().to_string();
        assert!(
            e.contains("unknown output format \"xml\", expected one of table, json, yaml"),
            "{e}"
        );
    }
}
