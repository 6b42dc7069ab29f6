#!/bin/bash
# Statistics of the workflow layer against published values (Fisher 6/10 vs 0/10 = 0.0054,
# Clopper-Pearson 0/20 = 0.168 two-sided, 0.139 one-sided, Z-channel capacities) and
# against brute-force enumeration for small n.  Root-free, no VM.
exec "${KDRILL_BIN:?}/wf-stats-test"
