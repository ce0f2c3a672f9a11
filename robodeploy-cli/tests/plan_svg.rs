//! `robodeploy plan FILE --svg out.svg`: the planned timeline's picture, read back as XML and
//! checked by structure (a lane per robot, bars coloured by step, failure marks, the
//! concurrency limit and the failure threshold), against the same plan's JSON.

mod common;

use common::{FAILING_PLAN, TempDir, explain, json, robodeploy, sample};
use roxmltree::{Document, Node};

fn class_is(n: &Node<'_, '_>, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|w| w == class))
}

#[test]
fn plan_svg_draws_a_lane_per_robot_with_failures_limit_and_threshold() {
    let dir = TempDir::new("plan-svg");
    let file = sample("fleet-rollout.yaml");
    let file = file.to_str().unwrap();
    let out_svg = dir.path().join("plan.svg");
    // A fleet where 30 % fail: the job halts at its threshold (1 robot), so some robots never
    // start, some succeed, and at least one fails.
    let svg = ["--svg", out_svg.to_str().unwrap()];
    let args = [&["plan", file][..], &FAILING_PLAN, &svg].concat();
    let out = robodeploy(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let plan = &json(&out)[0];
    let report = &plan["simulation"]["report"];
    let names: Vec<&str> = plan["robotNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20);

    let text = std::fs::read_to_string(&out_svg).expect("the SVG was written");
    let doc = Document::parse(&text).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("data-robots"), Some("20"));

    // A lane per robot, in fleet order.
    let lanes: Vec<Node<'_, '_>> = doc.descendants().filter(|n| class_is(n, "lane")).collect();
    let lane_names: Vec<&str> = lanes
        .iter()
        .map(|l| l.attribute("data-robot").unwrap())
        .collect();
    assert_eq!(lane_names, names);

    // Robots by outcome, from the report.
    let mut deployed = Vec::new();
    let mut failed = Vec::new();
    let mut untouched = Vec::new();
    for r in report["robots"].as_array().unwrap() {
        let name = names[r["robot"].as_u64().unwrap() as usize];
        match r["outcome"].as_str() {
            Some("inSync") => deployed.push(name),
            Some("failed") => failed.push(name),
            _ => untouched.push(name),
        }
    }
    assert!(
        !deployed.is_empty() && !failed.is_empty() && !untouched.is_empty(),
        "the scenario covers all three outcomes: {report}"
    );
    assert_eq!(deployed.len() + failed.len() + untouched.len(), 20);

    for lane in &lanes {
        let robot = lane.attribute("data-robot").unwrap();
        let bars: Vec<Node<'_, '_>> = lane.children().filter(|n| class_is(n, "bar")).collect();
        let marks: Vec<Node<'_, '_>> = lane.children().filter(|n| class_is(n, "failure")).collect();
        if deployed.contains(&robot) {
            assert!(!bars.is_empty(), "{robot} deployed: it has bars");
            // Its last bar is the last step before success (the job has a pre-launch script).
            let steps: Vec<&str> = bars
                .iter()
                .map(|b| b.attribute("data-step").unwrap())
                .collect();
            // Steps in pipeline order, through the pre-launch script to the launch.
            let order = [
                "Validating",
                "ExecutingDownloadCondition",
                "DownloadingExtracting",
                "ExecutingPreLaunch",
                "Launching",
                "ExecutingPostLaunch",
                "Finished",
            ];
            let idx: Vec<usize> = steps
                .iter()
                .map(|s| order.iter().position(|o| o == s).unwrap())
                .collect();
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "{robot}: {steps:?}");
            assert!(steps.contains(&"ExecutingPreLaunch"), "{robot}: {steps:?}");
            assert_eq!(steps.last(), Some(&"Launching"), "{robot}: {steps:?}");
            assert!(marks.is_empty(), "{robot} deployed: no failure mark");
        } else if failed.contains(&robot) {
            assert!(
                !bars.is_empty(),
                "{robot} failed after starting: it has bars"
            );
            assert_eq!(marks.len(), 1, "{robot} failed: one mark");
            let code = report["robots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| names[r["robot"].as_u64().unwrap() as usize] == robot)
                .unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(marks[0].attribute("data-code"), Some(code.as_str()));
        } else {
            assert!(bars.is_empty(), "{robot} never started: no bars");
            assert!(marks.is_empty(), "{robot} never started: no mark");
        }
        // Every bar lies inside the plot, with a positive width and a step colour.
        for b in &bars {
            let x: f64 = b.attribute("x").unwrap().parse().unwrap();
            let w: f64 = b.attribute("width").unwrap().parse().unwrap();
            assert!(
                x >= 170.0 && w > 0.0 && x + w <= 960.0,
                "{robot}: x {x} w {w}"
            );
            assert!(b.attribute("fill").unwrap().starts_with('#'));
            let title = b.children().find(|c| c.has_tag_name("title")).unwrap();
            assert!(title.text().unwrap().starts_with(&format!("{robot}: ")));
        }
    }

    // The concurrency limit and the failure threshold, with the job's values.
    let line = |class: &str| {
        let found: Vec<Node<'_, '_>> = doc.descendants().filter(|n| class_is(n, class)).collect();
        assert_eq!(found.len(), 1, "one {class} line");
        assert_eq!(found[0].tag_name().name(), "line");
        found[0]
            .attribute("data-value")
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(line("limit"), report["inFlightLimit"].as_u64().unwrap());
    assert_eq!(
        line("threshold"),
        report["failureThreshold"].as_u64().unwrap()
    );

    // Without --svg no file; the same seed draws the same picture.
    let again = dir.path().join("again.svg");
    let mut args2 = args;
    args2[9] = again.to_str().unwrap();
    let out = robodeploy(dir.path(), &args2);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
}
