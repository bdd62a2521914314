#!/bin/bash
# Build the report of the full run from cached results only (fits nothing) and copy it
# into the docs and benchmarks/results. Usage: ./publish.sh
set -e
OUT=/work/bench_full/out
REPO=/work/main
COMMON="--results-dir $OUT --grid 32 --epochs 12 --n-jobs 1 --seed 0 --report-only --no-progress"
ALL=rf_magpie,cnn_magpie,cnn3d_ecd,cnn2d_ecd,fusion,rf_descriptors,rf_descriptors_magpie,cgcnn
cd /work/bench_full
skecd benchmark $COMMON --protocol cv --models cnn3d_ecd --frame conventional --targets K_VRH > ablation_frame.txt
cp $OUT/results.md $OUT/ablation_frame_conventional.md
skecd benchmark $COMMON --protocol cv,loeo --models $ALL > report.txt
S=$REPO/docs/_static/benchmark
mkdir -p $S
for t in cv loeo time; do cp $OUT/tables/$t.rst $S/$t.rst.txt; done
cp $OUT/results.md $OUT/summary.json $OUT/ablation_frame_conventional.md $S/
cp $OUT/plots/parity_cv_all.png $S/
B=$REPO/benchmarks/results/skecd_benchmark/full
mkdir -p $B
rm -rf $B/results
cp -r $OUT/results $B/results
find $B/results -name ".*.part" -delete
cp $OUT/results.md $OUT/summary.json $OUT/ablation_frame_conventional.md $B/
cp run.sh run3a.sh run3b.sh run3c.sh run3d.sh publish.sh $B/
cat run.log run3a.log run3b.log run3c.log run3d.log | grep "^===" > $B/phases.log || true
echo published
