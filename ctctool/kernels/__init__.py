"""Compute kernels behind the core: numba for the CPU, vectorised torch for CUDA.

Each kernel follows the same contract as its twin, tie-breaking included, so the
results are identical on every device.
"""
