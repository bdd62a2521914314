#!/bin/bash
# Full benchmark on the shared 2-core CPU, in resumable phases (results cached in /work/bench_full/results).
cd /work/bench_full
COMMON="--results-dir /work/bench_full/out --grid 32 --epochs 12 --n-jobs 1 --seed 0"
t() { echo "=== $(date +%T) start: $*"; /usr/bin/time -f "=== wall %e s" skecd benchmark $COMMON "$@"; echo "=== $(date +%T) done"; }
t --protocol cv --models rf_magpie,rf_descriptors,rf_descriptors_magpie,cnn_magpie
t --protocol cv --models cnn3d_ecd
t --protocol cv --models cnn2d_ecd
t --protocol loeo --models rf_magpie,rf_descriptors,rf_descriptors_magpie,cnn_magpie
t --protocol loeo --models cnn3d_ecd
t --protocol loeo --models cnn2d_ecd
