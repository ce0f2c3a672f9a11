//! Rules of devices and fleets.

use super::{FieldPath, Findings, fields};
use crate::model::{Device, Fleet};

/// Checks one fleet on its own: its name, labels, and every robot; robot names and ids are
/// unique within it.
pub(super) fn check_fleet(f: &mut Findings, fleet: &Fleet) {
    let spec = FieldPath::spec();
    fields::name(f, spec.field("name"), &fleet.name);
    fields::labels(f, spec.field("labels"), &fleet.labels);
    let robots = spec.field("robots");
    fields::unique(f, fleet.robots.iter().map(|d| d.name.as_str()), |i| {
        robots.index(i).field("name")
    });
    let ids: Vec<String> = fleet.robots.iter().map(|d| d.id.to_string()).collect();
    fields::unique(f, ids.iter().map(String::as_str), |i| {
        robots.index(i).field("id")
    });
    for (i, d) in fleet.robots.iter().enumerate() {
        check_device(f, &robots.index(i), d);
    }
}

/// Checks one device, at `path`.
pub(super) fn check_device(f: &mut Findings, path: &FieldPath, d: &Device) {
    fields::name(f, path.field("name"), &d.name);
    if let Some(distro) = &d.ros_distro {
        fields::ros_distro(f, path.field("rosDistro"), distro);
    }
    if let Some(endpoint) = &d.endpoint {
        fields::file(f, path.field("endpoint"), endpoint);
    }
    if let Some(agent) = d.connection.as_ref().and_then(|c| c.agent()) {
        // The agent's name is one chunk of its key space: a DNS label holds nothing that
        // would reach another robot's keys ('/', '*', '$', '?', '#').
        fields::name(f, path.field("connection").field("agent"), agent);
    }
    fields::labels(f, path.field("labels"), &d.labels);
    for (app, version) in &d.installed {
        let at = path.field("installed").key(app);
        fields::name(f, at.clone(), app);
        fields::version(f, at, version);
    }
}
