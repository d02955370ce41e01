"""Shared utilities at the bottom of the package: backend, atomic and safe I/O, checks, sampling.

Nothing here imports any other part of mfglearn except :mod:`mfglearn.errors`.
"""
