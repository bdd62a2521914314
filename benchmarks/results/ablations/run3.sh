#!/bin/bash
cd /work/main
while kill -0 $(cat /work/ablations/run2.pid) 2>/dev/null; do sleep 5; done
python3 benchmarks/ablations.py --results-dir /work/ablations fusion_e30
