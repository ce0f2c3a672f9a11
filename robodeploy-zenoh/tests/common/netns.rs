//! A robot in its own network namespace, linked to the host by a veth pair, so that a
//! partition is a real one: the host's end of the link goes down.
//!
//! Needs root and `ip` (iproute2). Where they are missing the tests that need a namespace are
//! skipped, unless `ROBODEPLOY_REQUIRE_NETNS=1` (as in CI), which makes that a failure.

use std::process::Command;

/// One namespace and its link to the host.
pub struct Netns {
    /// The namespace's name.
    pub name: String,
    host_if: String,
    /// The host's address on the link.
    pub host_ip: String,
    /// The robot's address on the link.
    pub robot_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    /// A namespace for test `tag` (distinct per test in one binary), or `None` (with a note on
    /// stderr) when this machine cannot make one and CI does not require it.
    pub fn create(tag: u8) -> Option<Netns> {
        let id = std::process::id() % 100_000;
        let ns = Netns {
            name: format!("rd-{id}-{tag}"),
            host_if: format!("rdh{id}x{tag}"),
            host_ip: format!("10.213.{tag}.1"),
            robot_ip: format!("10.213.{tag}.2"),
        };
        let robot_if = format!("rdr{id}x{tag}");
        let made = (|| {
            ip(&["netns", "add", &ns.name])?;
            ip(&[
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &robot_if,
            ])?;
            ip(&["link", "set", &robot_if, "netns", &ns.name])?;
            ip(&[
                "addr",
                "add",
                &format!("{}/24", ns.host_ip),
                "dev",
                &ns.host_if,
            ])?;
            ip(&["link", "set", &ns.host_if, "up"])?;
            let robot_cidr = format!("{}/24", ns.robot_ip);
            let inside = |rest: &[&str]| {
                let mut all = vec!["netns", "exec", ns.name.as_str(), "ip"];
                all.extend_from_slice(rest);
                ip(&all)
            };
            inside(&["addr", "add", &robot_cidr, "dev", &robot_if])?;
            inside(&["link", "set", &robot_if, "up"])?;
            inside(&["link", "set", "lo", "up"])
        })();
        match made {
            Ok(()) => Some(ns),
            Err(e) => {
                drop(ns);
                assert!(
                    std::env::var("ROBODEPLOY_REQUIRE_NETNS").as_deref() != Ok("1"),
                    "ROBODEPLOY_REQUIRE_NETNS=1 but no network namespace: {e}"
                );
                eprintln!("skipped: no network namespace on this machine ({e})");
                None
            }
        }
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Cuts the link: nothing passes either way, and neither side is told.
    pub fn cut(&self) {
        ip(&["link", "set", &self.host_if, "down"]).unwrap();
    }

    /// Restores the link.
    pub fn heal(&self) {
        ip(&["link", "set", &self.host_if, "up"]).unwrap();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_if]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}
