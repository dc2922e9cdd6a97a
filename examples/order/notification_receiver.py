"""The demo's stand-in for the payment team's alerting: a webhook receiver that checks each
notification's signature and writes it, one JSON line each, to a file the demo reads.

``python -m examples.order.notification_receiver --port 9000 --secret S --out hooks.jsonl``
"""

from __future__ import annotations

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from podium.notifications import SIGNATURE_HEADER, verify

__all__ = ["main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True, help="the channel's secret")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines file to append to")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the demo's readiness check
            self.send_response(200)
            self.end_headers()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            header = self.headers.get(SIGNATURE_HEADER, "")
            signed = verify(args.secret, body, header, int(time.time()))
            # A receiver refuses what it cannot verify; Podium retries, then keeps it as dead.
            self.send_response(200 if signed else 401)
            self.end_headers()
            if signed:
                line: dict[str, Any] = {
                    "delivery": self.headers.get("X-Podium-Delivery"),
                    "message": json.loads(body),
                }
                with args.out.open("a") as out:
                    out.write(json.dumps(line) + "\n")
            print(f"notification {'verified' if signed else 'REFUSED: bad signature'}", flush=True)

        def log_message(self, format: str, *rest: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
