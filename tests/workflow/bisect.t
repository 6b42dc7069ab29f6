#!/bin/bash
# Bisection posterior and stopping rule: hand-computed posteriors (Beta-integrated
# one-sided noise), culprits found with deterministic outcome patterns (always, 1 in 3,
# at the good end), nothing to bisect when the bad end never reproduces, the good end
# reproducing, a budget ending with the most likely range, an INFRA kernel skipped,
# the classic fixed-runs mode and the median rule.  Root-free, no VM.
exec "${KDRILL_BIN:?}/wf-bisect-test"
