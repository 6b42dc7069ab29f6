#!/bin/bash
# Fix-validation decisions: sequences of run outcomes (match / other report / infra /
# pass) on BEFORE and AFTER -> FIXED / NOT-FIXED / INCONCLUSIVE, n_after, the reason and
# the order of the runs (calibration on BEFORE, then AFTER and BEFORE alternating).
# Root-free, no VM.
exec "${KDRILL_BIN:?}/wf-validate-test"
