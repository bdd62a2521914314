#!/bin/bash
# Stream B: cgcnn cv, cnn2d cv, fusion if it has landed. Cached results are skipped.
cd /work/bench_full
COMMON="--results-dir /work/bench_full/out --grid 32 --epochs 12 --n-jobs 1 --seed 0"
t() { echo "=== $(date +%T) start: $*"; /usr/bin/time -f "=== wall %e s" skecd benchmark $COMMON "$@"; echo "=== $(date +%T) done"; }
t --protocol cv --models cgcnn
t --protocol cv --models cnn2d_ecd
if skecd benchmark --list-models | grep "^fusion" | grep -qv unavailable; then t --protocol cv,loeo --models fusion; fi
