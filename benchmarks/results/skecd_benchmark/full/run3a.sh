#!/bin/bash
# Stream A: cnn3d cv (running, started by run.sh), cheap loeo, cnn3d loeo. Cached results are skipped.
cd /work/bench_full
while kill -0 24011 2>/dev/null; do sleep 5; done
COMMON="--results-dir /work/bench_full/out --grid 32 --epochs 12 --n-jobs 1 --seed 0"
t() { echo "=== $(date +%T) start: $*"; /usr/bin/time -f "=== wall %e s" skecd benchmark $COMMON "$@"; echo "=== $(date +%T) done"; }
t --protocol cv --models cnn3d_ecd
t --protocol loeo --models rf_magpie,rf_descriptors,rf_descriptors_magpie,cnn_magpie
t --protocol loeo --models cnn3d_ecd
t --protocol loeo --models cgcnn
t --protocol loeo --models cnn2d_ecd
