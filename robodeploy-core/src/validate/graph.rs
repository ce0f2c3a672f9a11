//! Dependency cycles between deployments.

use std::collections::BTreeMap;

/// The cycles among `graph` (deployment name → the names it depends on), each as the path that
/// closes it: `[a, b, c, a]`. One cycle per back edge of a depth-first search in name order, so
/// every graph with a cycle yields at least one and the result is deterministic. Self-edges and
/// edges to unknown names are skipped (they are reported as their own errors).
///
/// The search is iterative: a long dependency chain cannot overflow the stack.
pub(super) fn cycles(graph: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Gray,
        Black,
    }
    let mut color: BTreeMap<&str, Color> =
        graph.keys().map(|k| (k.as_str(), Color::White)).collect();
    let mut found = Vec::new();
    for root in graph.keys() {
        if color[root.as_str()] != Color::White {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(&str, usize)> = vec![(root.as_str(), 0)];
        color.insert(root.as_str(), Color::Gray);
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            let edges = &graph[node];
            if top.1 == edges.len() {
                color.insert(node, Color::Black);
                stack.pop();
                continue;
            }
            let target = edges[top.1].as_str();
            top.1 += 1;
            match color.get(target) {
                Some(Color::White) => {
                    color.insert(target, Color::Gray);
                    stack.push((target, 0));
                }
                Some(Color::Gray) if target != node => {
                    let start = stack.iter().position(|&(n, _)| n == target).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[start..].iter().map(|&(n, _)| n.to_owned()).collect();
                    cycle.push(target.to_owned());
                    found.push(cycle);
                }
                _ => {}
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn a_chain_has_no_cycle() {
        assert!(cycles(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])).is_empty());
    }

    #[test]
    fn a_three_cycle_is_reported_with_its_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(cycles(&g), vec![vec!["a", "b", "c", "a"]]);
    }

    #[test]
    fn self_edges_and_unknown_targets_are_not_cycles() {
        let g = graph(&[("a", &["a", "zzz"])]);
        assert!(cycles(&g).is_empty());
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let g = graph(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert!(cycles(&g).is_empty());
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let mut g = BTreeMap::new();
        for i in 0..200_000u32 {
            g.insert(format!("d{i:06}"), vec![format!("d{:06}", i + 1)]);
        }
        g.insert("d200000".to_owned(), vec!["d000000".to_owned()]);
        let found = cycles(&g);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].len(), 200_002);
    }
}
