//! How a job's launch config becomes a command.

use serde::{Deserialize, Serialize};

/// Turns a launch config's package name and launch file into argv.
///
/// Each element of `template` has `{package}` and `{launch_file}` replaced. The default is ROS 2's
/// `ros2 launch {package} {launch_file}`; [`Launcher::roslaunch`] gives ROS 1's. A job's robot
/// runs the package's executables; an executable whose `command` is the single word
/// [`Launcher::LAUNCH`] (`{launch}`) runs the launch command (a ROS package's executable is
/// usually "the launch"), and so does a Docker executable with no command. A preinstalled
/// executable must name a command (the manifest validator refuses an empty one through every
/// door), so `{launch}` is how a package says "run what the job's launch config says".
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
    /// The command word that stands for the job's launch command: an executable whose
    /// `command` is exactly `["{launch}"]` runs the rendered launch command on a job's robots.
    pub const LAUNCH: &'static str = "{launch}";

    /// Whether `command` is [`Launcher::LAUNCH`] alone: the executable runs the launch command.
    pub fn is_launch(command: &[String]) -> bool {
        matches!(command, [word] if word == Self::LAUNCH)
    }

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
