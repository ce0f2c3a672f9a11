//! Rules of deployment requests, including device selection against the package and the known
//! devices.

use super::{
    FieldPath, Findings, ValidationContext, ValidationError as E, ValidationWarning as W, fields,
};
use crate::model::{DeploymentRequest, NetworkPlacement, Package, Placement};

/// Checks one deployment against what the context knows.
pub(super) fn check_deployment(f: &mut Findings, d: &DeploymentRequest, ctx: &ValidationContext) {
    let spec = FieldPath::spec();
    fields::name(f, spec.field("name"), &d.name);
    fields::version(f, spec.field("version"), &d.version);
    fields::labels(f, spec.field("labels"), &d.labels);
    fields::env(f, spec.field("env"), &d.env);
    if let Some(net) = &d.routed_network {
        fields::name(f, spec.field("routedNetwork").field("name"), &net.name);
    }
    check_dependencies(f, d, ctx);
    let package = if d.version.is_numbered() {
        ctx.package(&d.package, &d.version)
    } else {
        None
    };
    match package {
        Some(p) => check_against_package(f, d, p, ctx),
        None if d.version.is_numbered() => f.error(E::UnknownPackage {
            path: spec.field("package"),
            package: d.package.clone(),
            version: d.version.clone(),
        }),
        None => {}
    }
}

fn check_dependencies(f: &mut Findings, d: &DeploymentRequest, ctx: &ValidationContext) {
    let deps = FieldPath::spec().field("dependsOn");
    fields::unique(f, d.depends_on.iter().map(String::as_str), |i| {
        deps.index(i)
    });
    let volumes = FieldPath::spec().field("volumes");
    let referenced = d
        .depends_on
        .iter()
        .enumerate()
        .map(|(i, dep)| (deps.index(i), dep))
        .chain(
            d.volumes
                .iter()
                .enumerate()
                .map(|(i, v)| (volumes.index(i).field("deployment"), &v.deployment)),
        );
    for (path, dep) in referenced {
        if *dep == d.name {
            f.error(E::SelfDependency {
                path,
                deployment: dep.clone(),
            });
        } else if !ctx.has_deployment(dep) {
            f.error(E::UnknownDeployment {
                path,
                deployment: dep.clone(),
            });
        }
    }
    for (i, v) in d.volumes.iter().enumerate() {
        fields::absolute_path(f, volumes.index(i).field("mountPath"), &v.mount_path);
    }
}

fn check_against_package(
    f: &mut Findings,
    d: &DeploymentRequest,
    p: &Package,
    ctx: &ValidationContext,
) {
    let devices = FieldPath::spec().field("devices");
    for (component, device) in &d.devices {
        let at = devices.key(component);
        match p.component(component).map(|c| (c, c.placement)) {
            None => f.error(E::UnknownComponent {
                path: at,
                component: component.clone(),
                package: p.name.clone(),
            }),
            Some((_, Placement::Cloud)) => f.error(E::DeviceForCloudComponent {
                path: at,
                component: component.clone(),
            }),
            Some((
                c,
                Placement::Device {
                    runtime,
                    architecture,
                },
            )) => {
                let Some(dev) = ctx.device(device) else {
                    f.error(E::UnknownDevice {
                        path: at,
                        device: device.clone(),
                    });
                    continue;
                };
                if dev.architecture != architecture {
                    f.error(E::ArchitectureMismatch {
                        path: at.clone(),
                        device: device.clone(),
                        device_architecture: dev.architecture,
                        component_architecture: architecture,
                    });
                }
                if dev.runtime != runtime {
                    f.error(E::RuntimeMismatch {
                        path: at.clone(),
                        device: device.clone(),
                        device_runtime: dev.runtime,
                        component_runtime: runtime,
                    });
                }
                if let Some(ros) = &c.ros
                    && dev.ros_distro.as_ref() != Some(&ros.distro)
                {
                    f.error(E::RosDistroMismatch {
                        path: at.clone(),
                        device: device.clone(),
                        device_distro: dev.ros_distro.clone(),
                        component_distro: ros.distro.clone(),
                    });
                }
                if !dev.online {
                    f.warn(W::DeviceOffline {
                        path: at,
                        device: device.clone(),
                    });
                }
            }
        }
    }
    for c in p.components.iter().filter(|c| c.placement.is_device()) {
        if !d.devices.contains_key(&c.name) {
            f.error(E::MissingDevice {
                path: devices.clone(),
                component: c.name.clone(),
            });
        }
    }
    let network = FieldPath::spec().field("routedNetwork");
    if let Some(ros) = p.components.iter().find(|c| c.ros.is_some())
        && d.routed_network.is_none()
    {
        f.error(E::RoutedNetworkRequired {
            path: network.clone(),
            component: ros.name.clone(),
        });
    }
    if let Some(cloud) = p
        .components
        .iter()
        .find(|c| c.placement == Placement::Cloud)
        && let Some(net) = &d.routed_network
        && net.placement != NetworkPlacement::Cloud
    {
        f.error(E::CloudRoutedNetworkRequired {
            path: network.field("placement"),
            network: net.name.clone(),
            component: cloud.name.clone(),
        });
    }
    let volumes = FieldPath::spec().field("volumes");
    for (i, v) in d.volumes.iter().enumerate() {
        if p.component(&v.component).is_none() {
            f.error(E::UnknownComponent {
                path: volumes.index(i).field("component"),
                component: v.component.clone(),
                package: p.name.clone(),
            });
        }
    }
}
