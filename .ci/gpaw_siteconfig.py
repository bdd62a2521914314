# GPAW build configuration for skecd's CI, read by GPAW's setup.py through the
# GPAW_CONFIG environment variable (see .ci/run). A serial build (no MPI: skecd runs
# one GPAW process per material), compiled as C++ with g++, linked against the
# Debian packages libxc-dev, libfftw3-dev and libopenblas-dev.
compiler = "g++"
mpi = False
fftw = True
scalapack = False
libraries = ["xc", "fftw3", "openblas"]
