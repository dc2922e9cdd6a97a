"""Restate's fan-out (the peers' W3 handler) at the big-run size; run in the peers' virtualenv.

``python -m bench.big_runs.restate_fan_out --json-out F --work D --branches 1000 --runs 3``
starts Restate as ``bench.peers.restate_peer`` does, times ``--runs`` fan-outs after one that
warms up, stops it and writes ``{"median_ms": ...}`` (or ``{"error": ...}``) to ``F``. Like
every peer script it imports nothing of Podium's, whose dependencies that virtualenv lacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from bench.peers.common import Sizes
from bench.peers.restate_peer import RestatePeer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json-out", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--branches", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    outcome: dict[str, Any] = {}
    peer: RestatePeer | None = None
    try:
        peer = RestatePeer(args)
        peer.start()
        w3 = peer.w3(Sizes(w3_branches=args.branches, w3_runs=args.runs))
        outcome = {"median_ms": w3["median_ms"]}
    except Exception as exc:
        outcome = {"error": f"{type(exc).__name__}: {exc}"}
        traceback.print_exc()
    finally:
        if peer is not None:
            try:
                peer.stop()
            except Exception:
                traceback.print_exc()
        args.json_out.write_text(json.dumps(outcome))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
