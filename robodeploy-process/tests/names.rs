//! Names that could lead out of the runtime's root are refused at every door, whatever the
//! engine passes: a start is `InvalidSpec` naming the field, and an operation on such an id
//! finds no instance (nothing outside `instances/` is read, stopped or deleted).

mod common;

use std::time::Duration;

use common::{runtime, spec};
use robodeploy_core::runtime::{InstanceId, Runtime, RuntimeError, TaskSpec};

#[tokio::test]
async fn names_and_paths_that_could_leave_the_root_are_refused() {
    let (rt, root) = runtime("names");
    // A directory beside the instances that a traversal would reach.
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("instance.json"), b"{}").unwrap();
    let long = "x".repeat(256);
    for bad in ["../outside", "a/b", "..", "a\0b", "a..b", long.as_str()] {
        let mut s = spec("c", "e", &["sh", "-c", "exit 0"]);
        s.name = bad.to_owned();
        for result in [rt.prepare(&s).await, rt.start(&s).await.map(drop)] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, RuntimeError::InvalidSpec { field: "name", .. }),
                "{bad:?}: {err:?}"
            );
            assert!(!err.to_string().contains('\0'), "{err}");
        }
        common::assert_no_such_instance(&rt, &InstanceId(bad.to_owned())).await;
    }
    assert!(
        outside.join("instance.json").exists(),
        "something outside was removed"
    );
    assert!(!root.path().join("instances").join("a").exists());

    // A task's working directory is a host path in plain components.
    let task = TaskSpec {
        command: vec!["true".into()],
        shell: false,
        env: Default::default(),
        working_dir: Some(format!("{}/instances/../outside", root.path().display())),
        image: None,
        timeout: Duration::from_secs(5),
    };
    let err = rt.run_task(&task).await.unwrap_err();
    assert!(
        matches!(
            &err,
            RuntimeError::InvalidSpec {
                field: "working_dir",
                ..
            }
        ),
        "{err:?}"
    );
}
