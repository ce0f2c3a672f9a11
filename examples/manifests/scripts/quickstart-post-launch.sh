#!/bin/sh
# Post-launch check of the quickstart: give the application a moment to come up, then report.
sleep 0.3
echo "post-launch: $ROBODEPLOY_ROBOT runs $ROBODEPLOY_APPLICATION $ROBODEPLOY_APPLICATION_VERSION"
