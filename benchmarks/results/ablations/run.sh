#!/bin/bash
cd /work/main
for a in se_adam_e12 cnn3d_rawy_e12 cnn3d_grid24_e12 cnn3d_e30 se_sgd_e40; do
  python3 benchmarks/ablations.py --results-dir /work/ablations $a
done
