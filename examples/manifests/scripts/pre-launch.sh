#!/bin/sh
# Pre-launch check for the talker: a non-zero exit fails this robot's deployment.
command -v sh >/dev/null 2>&1 || { echo "pre-launch: no shell" >&2; exit 1; }
echo "pre-launch: robot ready (site ${ROBOT_SITE:-unknown})"
