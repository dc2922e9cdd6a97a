"""Benchmarks for big runs: DO_WHILE growth, a wide dynamic fan-out against Restate, and the
memory a cached run of many tasks costs against its stored size (``python -m bench.big_runs``).

Nothing is imported here: ``restate_fan_out`` runs in the peers' virtualenv, without Podium's
dependencies.
"""
