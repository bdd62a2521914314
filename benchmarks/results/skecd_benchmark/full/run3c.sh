#!/bin/bash
# Stream C, after stream B: cgcnn loeo, then a frame ablation of the 3D CNN (cv, conventional frame).
cd /work/bench_full
# (started in parallel with stream B)
COMMON="--results-dir /work/bench_full/out --grid 32 --epochs 12 --n-jobs 1 --seed 0"
t() { echo "=== $(date +%T) start: $*"; /usr/bin/time -f "=== wall %e s" skecd benchmark $COMMON "$@"; echo "=== $(date +%T) done"; }
t --protocol loeo --models cgcnn
t --protocol cv --models cnn3d_ecd --frame conventional --targets K_VRH
