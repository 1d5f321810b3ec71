#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# meson-step.sh STAMP CMD...: run CMD (a build step with its own notion of
# up-to-date) and touch STAMP when it succeeds.
set -eu
stamp=$1
shift
"$@"
touch "$stamp"
