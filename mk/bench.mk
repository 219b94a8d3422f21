# `make bench`: libsypht against the official Python client and against
# wrk on loopback, written to BENCHMARKS.md (see bench/run.sh). It is not
# part of `make test`, because it runs for several minutes, installs wrk
# and valgrind when missing, and fetches the Python client from PyPI.

.PHONY: bench

bench:
	bench/run.sh
