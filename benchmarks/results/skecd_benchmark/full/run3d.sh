#!/bin/bash
# Stream D: fusion, cv then loeo. Cached results are skipped.
cd /work/bench_full
COMMON="--results-dir /work/bench_full/out --grid 32 --epochs 12 --n-jobs 1 --seed 0"
t() { echo "=== $(date +%T) start: $*"; /usr/bin/time -f "=== wall %e s" skecd benchmark $COMMON "$@"; echo "=== $(date +%T) done"; }
t --protocol cv --models fusion
t --protocol loeo --models fusion
