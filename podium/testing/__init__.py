"""Testing code that uses Podium (workers, scripts, clients) against the real server.

``PodiumTestServer`` runs Podium itself in a background thread on a loopback port, on SQLite
in a temporary directory unless told otherwise::

    with PodiumTestServer() as server:
        task_id = server.enqueue("reserve_inventory", {"sku": "A-1"})
        WorkerRunner(server.url, [reserve]).run(burst=True)
        assert server.task(task_id)["status"] == "COMPLETED"

        server.register(order_flow)
        run_id = server.start_run("order", {"sku": "A-1"})
        assert server.wait(run_id)["status"] == "COMPLETED"

It records the requests it receives (``server.requests``, ``server.results()``), and can fail,
delay or drop the next requests to a route (``fail_next``, ``delay_next``, ``drop_next``) or
be stopped and started again, to test how clients retry.
"""

from podium.testing.server import PodiumTestServer, free_port
from podium.testing.traffic import RecordedRequest

__all__ = ["PodiumTestServer", "RecordedRequest", "free_port"]
