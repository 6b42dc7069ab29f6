#!/bin/bash
# harness/lava/ without a lab: job definitions (shell-safe names, YAML quoting, the boot
# the device needs) and two real LAVA job logs (tests/lava/fixtures: a completed
# two-scenario job and a crash-selftest job whose device panicked; recorded from
# kvm/lava/lava-lab's instance), one with a chunk mangled.  Root-free.
exec "${KDRILL_BIN:?}/../tests/lava/lava-test" "$KDRILL_TOP/tests/lava/fixtures"
