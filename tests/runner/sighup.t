#!/bin/bash
# SIGHUP (the terminal closed) ends a run like SIGINT: INFRA "interrupted (SIGHUP)", the
# mount, the loop device, the cgroups and the reproducers cleaned up (see sigint.t).
SIG=HUP exec "$KDRILL_TOP/tests/runner/sigint.t"
