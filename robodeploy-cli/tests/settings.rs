//! Which server a command talks to and how it prints, through each way of saying it: the
//! `ROBODEPLOY_SERVER`/`ROBODEPLOY_TOKEN`/`ROBODEPLOY_OUTPUT` environment, a config file named
//! by `--config`, the default config file under `$XDG_CONFIG_HOME`, and flags over all of them.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Server, TempDir, explain, stdout};
use serde_json::Value;

/// `robodeploy ARGS` run in `cwd` (no state directory there), with only `env` saying anything
/// about the server, and the default config file under `config_home`.
fn run(cwd: &Path, config_home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(common::BIN)
        .current_dir(cwd)
        .args(args)
        .env_remove("ROBODEPLOY_CONFIG")
        .env_remove("ROBODEPLOY_SERVER")
        .env_remove("ROBODEPLOY_TOKEN")
        .env_remove("ROBODEPLOY_OUTPUT")
        .env_remove("ROBODEPLOY_STATE_DIR")
        .env("XDG_CONFIG_HOME", config_home)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run robodeploy")
}

fn fleet_names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn the_server_is_found_through_the_environment_a_config_file_and_flags() {
    let server = Server::start("settings");
    let fleet = server.dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet,
        common::manifest::fleet("settings-fleet", &[], &[common::manifest::robot("sr1")]),
    )
    .expect("write");
    let out = server.cli(&["apply", "-f", fleet.to_str().expect("utf-8"), "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (url, token) = server.endpoint();
    let elsewhere = TempDir::new("settings-cwd");
    let home = TempDir::new("settings-home");

    // Nothing says where the server is: the default state directory holds no endpoint.
    let out = run(elsewhere.path(), home.path(), &[], &["get", "fleets"]);
    assert_ne!(out.status.code(), Some(0), "{}", explain(&out));

    // The environment.
    let env = [
        ("ROBODEPLOY_SERVER", url.as_str()),
        ("ROBODEPLOY_TOKEN", token.as_str()),
    ];
    let out = run(
        elsewhere.path(),
        home.path(),
        &env,
        &["get", "fleets", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(fleet_names(&json), ["settings-fleet"]);

    // A wrong token is refused, whatever else is right.
    let wrong = [
        ("ROBODEPLOY_SERVER", url.as_str()),
        ("ROBODEPLOY_TOKEN", "not-the-token"),
    ];
    let out = run(elsewhere.path(), home.path(), &wrong, &["get", "fleets"]);
    assert_ne!(out.status.code(), Some(0), "{}", explain(&out));

    // ROBODEPLOY_OUTPUT=yaml prints the same data as YAML.
    let yaml_env = [env[0], env[1], ("ROBODEPLOY_OUTPUT", "yaml")];
    let out = run(elsewhere.path(), home.path(), &yaml_env, &["get", "fleets"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let yaml: Value = serde_saphyr::from_str(&stdout(&out)).expect("yaml");
    assert_eq!(yaml, json, "{}", stdout(&out));

    // A config file named by --config: server, token and output.
    let file = elsewhere.path().join("cli.yaml");
    std::fs::write(
        &file,
        format!("server: {url}\ntoken: {token}\noutput: json\n"),
    )
    .expect("write");
    let config = file.to_str().expect("utf-8");
    let out = run(
        elsewhere.path(),
        home.path(),
        &[],
        &["--config", config, "get", "fleets"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let from_file: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(from_file, json);
    // A flag wins over the file.
    let out = run(
        elsewhere.path(),
        home.path(),
        &[],
        &["--config", config, "get", "fleets", "-o", "yaml"],
    );
    let yaml: Value = serde_saphyr::from_str(&stdout(&out)).expect("yaml");
    assert_eq!(yaml, json);
    // A key the file format does not know is refused, naming the file.
    std::fs::write(&file, format!("server: {url}\ntokn: {token}\n")).expect("write");
    let out = run(
        elsewhere.path(),
        home.path(),
        &[],
        &["--config", config, "get", "fleets"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("cli.yaml"),
        "{}",
        explain(&out)
    );

    // The default config file, read with nothing else said.
    let dir = home.path().join("robodeploy");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config.yaml"),
        format!("server: {url}\ntoken: {token}\noutput: json\n"),
    )
    .expect("write");
    let out = run(elsewhere.path(), home.path(), &[], &["get", "fleets"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let from_default: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(from_default, json);
}
