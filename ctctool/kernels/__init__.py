"""Compute kernels behind the core: numba for the CPU, vectorised torch for CUDA.

Each kernel follows the same contract as its twin, tie-breaking included, so the
results are identical on every device.

numba caches compiled kernels under ``__pycache__`` and checks only the file that defines
each one: after editing a helper in another module (``trie.py``, ``ngram_tables.py``),
delete ``ctctool/kernels/__pycache__/*.nbi`` and ``*.nbc`` or the callers keep the old code.
"""
