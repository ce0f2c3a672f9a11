#!/bin/sh
# Pre-launch check of the quickstart: fails (exit 1) on the robots named in FAILING_ROBOTS, to
# show what a robot failure looks like. A non-zero exit fails that robot's deployment.
for r in $FAILING_ROBOTS; do
  if [ "$r" = "$ROBODEPLOY_ROBOT" ]; then
    echo "pre-launch: $ROBODEPLOY_ROBOT: battery below 20 %, refusing to launch" >&2
    exit 1
  fi
done
echo "pre-launch: $ROBODEPLOY_ROBOT ready"
