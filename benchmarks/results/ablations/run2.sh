#!/bin/bash
# second queue: waits for run.sh, then the extra ablations, one after another
cd /work/main
while kill -0 $(cat /work/ablations/run.pid) 2>/dev/null; do sleep 5; done
for a in cnn3d_e12 se_sgd_lr1e-2_e12 cnn3d_grid48_e12; do
  python3 benchmarks/ablations.py --results-dir /work/ablations $a
done
