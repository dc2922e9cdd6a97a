"""Podium against real peer engines on this machine, one engine at a time, same workloads.

Each peer lives in its own module exposing the ``common.Peer`` interface (``start``, ``w1`` ..
``w4``, ``stop``) and runs as a script under the peers' own virtualenv, so that no peer package
becomes a Podium dependency. ``python -m bench.peers`` drives Podium and every peer in turn.
"""
