//! Rules of packages, components and executables.

use super::{
    FieldPath, Findings, ValidationError as E, ValidationWarning as W, exec_limits, fields,
};
use crate::model::{Component, DeviceRuntime, Executable, Package, Placement};

/// Checks one package on its own.
pub(super) fn check_package(f: &mut Findings, p: &Package) {
    let spec = FieldPath::spec();
    fields::name(f, spec.field("name"), &p.name);
    fields::version(f, spec.field("version"), &p.version);
    fields::labels(f, spec.field("labels"), &p.labels);
    let components = spec.field("components");
    if p.components.is_empty() {
        f.error(E::Empty {
            path: components.clone(),
        });
    }
    fields::unique(f, p.components.iter().map(|c| c.name.as_str()), |i| {
        components.index(i).field("name")
    });
    for (i, c) in p.components.iter().enumerate() {
        check_component(f, &components.index(i), c);
    }
}

fn check_component(f: &mut Findings, path: &FieldPath, c: &Component) {
    fields::name(f, path.field("name"), &c.name);
    if let Some(ros) = &c.ros {
        fields::ros_distro(f, path.field("ros").field("distro"), &ros.distro);
    }
    let executables = path.field("executables");
    if c.executables.is_empty() {
        f.error(E::Empty {
            path: executables.clone(),
        });
    }
    fields::unique(f, c.executables.iter().map(|e| e.name.as_str()), |i| {
        executables.index(i).field("name")
    });
    for (i, e) in c.executables.iter().enumerate() {
        check_executable(f, &executables.index(i), c.placement, e);
    }
}

fn check_executable(f: &mut Findings, path: &FieldPath, placement: Placement, e: &Executable) {
    fields::name(f, path.field("name"), &e.name);
    let runtime = match placement {
        Placement::Cloud => Some("cloud"),
        Placement::Device {
            runtime: DeviceRuntime::Docker,
            ..
        } => Some("docker"),
        Placement::Device {
            runtime: DeviceRuntime::Preinstalled,
            ..
        } => None,
    };
    match (runtime, &e.image) {
        (Some(_), Some(image)) => fields::image(f, path.field("image"), image),
        (Some(runtime), None) => f.error(E::MissingImage {
            path: path.field("image"),
            runtime,
        }),
        (None, Some(image)) => f.error(E::ImageOnPreinstalled {
            path: path.field("image"),
            image: image.clone(),
        }),
        (None, None) => {
            let program = e.command.first().map(|p| p.trim());
            if program.is_none_or(str::is_empty) {
                f.error(E::MissingCommand {
                    path: path.field("command"),
                });
            }
        }
    }
    if let Some(dir) = &e.working_dir {
        fields::absolute_path(f, path.field("workingDir"), dir);
    }
    fields::env(f, path.field("env"), &e.env);
    for (i, port) in e.ports.iter().enumerate() {
        if port.container == 0 {
            f.error(E::InvalidPort {
                path: path.field("ports").index(i).field("container"),
            });
        }
        if port.host == Some(0) {
            f.error(E::InvalidPort {
                path: path.field("ports").index(i).field("host"),
            });
        }
    }
    for (i, m) in e.mounts.iter().enumerate() {
        let at = path.field("mounts").index(i);
        if m.source.is_empty() {
            f.error(E::Empty {
                path: at.field("source"),
            });
        }
        fields::absolute_path(f, at.field("target"), &m.target);
        if let Some(what) = fields::host_takeover(&m.source) {
            f.warn(W::HostTakeoverMount {
                path: at.field("source"),
                mount: m.source.clone(),
                what,
            });
        }
    }
    exec_limits::limits(f, path.field("limits"), &e.limits, runtime.is_some());
}
