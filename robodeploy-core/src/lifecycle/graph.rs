//! Dependencies between deployments: cycle detection and a start order.

use std::collections::{BTreeMap, BTreeSet};

/// Which deployments depend on which, by name.
///
/// ```
/// use robodeploy_core::lifecycle::{DependencyGraph, GraphError};
/// let mut g = DependencyGraph::new();
/// g.add("app", ["ros-master", "map"]);
/// g.add("map", ["ros-master"]);
/// g.add("ros-master", [] as [&str; 0]);
/// assert_eq!(g.start_order().unwrap(), ["ros-master", "map", "app"]);
///
/// g.add("ros-master", ["app"]);
/// let GraphError::Cycle { cycle } = g.start_order().unwrap_err() else { panic!() };
/// assert_eq!(cycle, ["app", "map", "ros-master", "app"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DependencyGraph {
    deps: BTreeMap<String, BTreeSet<String>>,
}

/// A dependency graph that cannot be ordered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// The deployments depend on each other in a cycle; the first name is repeated at the end.
    #[error("dependencies form a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The deployments around the cycle.
        cycle: Vec<String>,
    },
    /// A deployment depends on one the graph does not have.
    #[error("deployment {deployment:?} depends on {dependency:?}, which is not deployed")]
    Missing {
        /// The dependent deployment.
        deployment: String,
        /// The missing dependency.
        dependency: String,
    },
}

impl DependencyGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a deployment with its dependencies, replacing what was known about it.
    pub fn add<S: Into<String>>(
        &mut self,
        deployment: impl Into<String>,
        depends_on: impl IntoIterator<Item = S>,
    ) {
        self.deps.insert(
            deployment.into(),
            depends_on.into_iter().map(Into::into).collect(),
        );
    }

    /// Removes a deployment (its dependents then miss it).
    pub fn remove(&mut self, deployment: &str) {
        self.deps.remove(deployment);
    }

    /// The deployments that depend directly on `deployment`: those to tell when its status changes.
    pub fn dependents<'a>(&'a self, deployment: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.deps
            .iter()
            .filter(move |(_, d)| d.contains(deployment))
            .map(|(name, _)| name.as_str())
    }

    /// The direct dependencies of `deployment`.
    pub fn dependencies(&self, deployment: &str) -> impl Iterator<Item = &str> + '_ {
        self.deps
            .get(deployment)
            .into_iter()
            .flat_map(|d| d.iter().map(String::as_str))
    }

    /// A cycle, if the dependencies have one: the names around it, the first repeated at the end.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
        let mut path: Vec<&str> = Vec::new();
        // Iterative depth-first search: each frame is a node and its remaining dependencies.
        for root in self.deps.keys() {
            if marks.contains_key(root.as_str()) {
                continue;
            }
            let mut stack = vec![(root.as_str(), self.dependencies(root))];
            marks.insert(root, Mark::Visiting);
            path.push(root);
            while let Some((node, next)) = stack.last_mut() {
                match next.next() {
                    Some(dep) => match marks.get(dep) {
                        Some(Mark::Visiting) => {
                            let start = path.iter().position(|n| *n == dep).unwrap_or(0);
                            let mut cycle: Vec<String> =
                                path[start..].iter().map(|s| s.to_string()).collect();
                            cycle.push(dep.to_string());
                            return Some(cycle);
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(dep, Mark::Visiting);
                            path.push(dep);
                            stack.push((dep, self.dependencies(dep)));
                        }
                    },
                    None => {
                        marks.insert(node, Mark::Done);
                        path.pop();
                        stack.pop();
                    }
                }
            }
        }
        None
    }

    /// Every deployment, each after all of its dependencies; ties broken by name, so the order
    /// is deterministic.
    pub fn start_order(&self) -> Result<Vec<String>, GraphError> {
        for (name, deps) in &self.deps {
            if let Some(missing) = deps.iter().find(|d| !self.deps.contains_key(*d)) {
                return Err(GraphError::Missing {
                    deployment: name.clone(),
                    dependency: missing.clone(),
                });
            }
        }
        if let Some(cycle) = self.find_cycle() {
            return Err(GraphError::Cycle { cycle });
        }
        let mut waiting: BTreeMap<&str, usize> = self
            .deps
            .iter()
            .map(|(n, d)| (n.as_str(), d.len()))
            .collect();
        let mut ready: BTreeSet<&str> = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(name, _)| *name)
            .collect();
        let mut order = Vec::with_capacity(self.deps.len());
        while let Some(name) = ready.pop_first() {
            order.push(name.to_string());
            for dependent in self.dependents(name) {
                if let Some(n) = waiting.get_mut(dependent) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(dependent);
                    }
                }
            }
        }
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_loop_is_a_cycle_and_a_missing_dependency_is_named() {
        let mut g = DependencyGraph::new();
        g.add("a", ["a"]);
        assert_eq!(g.find_cycle().unwrap(), ["a", "a"]);
        let mut g = DependencyGraph::new();
        g.add("a", ["b"]);
        assert_eq!(
            g.start_order().unwrap_err().to_string(),
            "deployment \"a\" depends on \"b\", which is not deployed"
        );
    }

    #[test]
    fn independent_deployments_start_in_name_order() {
        let mut g = DependencyGraph::new();
        for n in ["c", "a", "b"] {
            g.add(n, [] as [&str; 0]);
        }
        assert_eq!(g.start_order().unwrap(), ["a", "b", "c"]);
        assert_eq!(g.find_cycle(), None);
    }
}
