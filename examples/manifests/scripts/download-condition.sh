#!/bin/sh
# Download condition: exit 0 when the robot may download now (here: always; a real robot would
# check that it is docked and idle).
exit 0
