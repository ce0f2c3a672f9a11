//! How a job's launch config becomes a command.

use serde::{Deserialize, Serialize};

/// Turns a launch config's package name and launch file into argv.
///
/// Each element of `template` has `{package}` and `{launch_file}` replaced. The default is ROS 2's
/// `ros2 launch {package} {launch_file}`; [`Launcher::roslaunch`] gives ROS 1's. A job's robot
/// runs the package's executables; an executable whose `command` is empty runs the launch command
/// (a ROS package's executable is usually "the launch").
///
/// ```
/// use robodeploy_core::engine::Launcher;
/// let argv = Launcher::default().render("talker", "talker.launch.py");
/// assert_eq!(argv, ["ros2", "launch", "talker", "talker.launch.py"]);
/// assert_eq!(Launcher::roslaunch().render("p", "f.launch")[0], "roslaunch");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launcher {
    /// argv with `{package}` and `{launch_file}` placeholders.
    pub template: Vec<String>,
}

impl Default for Launcher {
    fn default() -> Self {
        Launcher {
            template: ["ros2", "launch", "{package}", "{launch_file}"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl Launcher {
    /// ROS 1's `roslaunch {package} {launch_file}`.
    pub fn roslaunch() -> Self {
        Launcher {
            template: ["roslaunch", "{package}", "{launch_file}"]
                .map(String::from)
                .to_vec(),
        }
    }

    /// The argv for a package and launch file.
    pub fn render(&self, package: &str, launch_file: &str) -> Vec<String> {
        self.template
            .iter()
            .map(|t| {
                t.replace("{package}", package)
                    .replace("{launch_file}", launch_file)
            })
            .collect()
    }
}
