"""Contracts through the API, on each store: the registry, enforcement as tasks run, and the
checks a workflow passes at registration."""

from __future__ import annotations

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status

MONEY = {"type": "number", "minimum": 0}
RESERVE = {
    "kind": "task",
    "name": "reserve_inventory",
    "version": "1.0.0",
    "service": "inventory",
    "input": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}},
    "output": {
        "type": "object",
        "required": ["reservation_id", "total"],
        "properties": {"reservation_id": {"type": "string"}, "total": {"type": "number"}},
        "additionalProperties": False,
    },
}
CHARGE = {
    "kind": "task",
    "name": "charge_payment",
    "version": "1.2.0",
    "service": "payments",
    "input": {
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": MONEY, "currency": {"enum": ["EUR", "USD"]}},
    },
    "output": {
        "type": "object",
        "required": ["receipt"],
        "properties": {"receipt": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
    },
}  # fmt: skip


def task_defs(mode: str | None = None) -> list[dict]:
    extra = {"contractMode": mode} if mode else {}
    return [
        {
            "name": "reserve_inventory",
            "retryCount": 2,
            "ownerApp": "inventory",
            "inputSchema": {"name": "reserve_inventory", "type": "JSON"},
            "outputSchema": {"name": "reserve_inventory", "version": 1},
            **extra,
        },
        {
            "name": "charge_payment",
            "retryCount": 2,
            "ownerApp": "payments",
            "inputSchema": {"name": "charge_payment"},
            "outputSchema": {"name": "charge_payment", "version": "1.2"},
            **extra,
        },
    ]


ORDER = {
    "name": "order",
    "version": 1,
    "tasks": [
        {
            "name": "reserve_inventory",
            "taskReferenceName": "reserve",
            "inputParameters": {"sku": "${workflow.input.sku}"},
        },
        {
            "name": "charge_payment",
            "taskReferenceName": "charge",
            "inputParameters": {"amount": "${reserve.output.total}", "currency": "EUR"},
        },
    ],
    "outputParameters": {"receipt": "${charge.output.receipt.id}"},
}


def setup(api, mode: str | None = None) -> None:
    response = api.post("/api/contracts", json=[RESERVE, CHARGE])
    assert response.status_code == 200, response.text
    register(api, ORDER, task_defs(mode))


# ---- the registry ----------------------------------------------------------------------------


def test_push_list_and_read_contract_versions(api):
    first = api.post("/api/contracts", json=[RESERVE, CHARGE])
    assert first.json() == {
        "registered": ["task/reserve_inventory@1.0.0", "task/charge_payment@1.2.0"],
        "unchanged": [],
    }
    again = api.post("/api/contracts", json=RESERVE)
    assert again.json() == {"registered": [], "unchanged": ["task/reserve_inventory@1.0.0"]}
    newer = {**RESERVE, "version": "1.10.0", "description": "now documented"}
    api.post("/api/contracts", json=[newer, {**RESERVE, "version": "2.0.0"}])
    assert api.get("/api/contracts/task/reserve_inventory/versions").json() == [
        "1.0.0",
        "1.10.0",
        "2.0.0",
    ]
    assert api.get("/api/contracts/task/reserve_inventory").json()["version"] == "2.0.0"
    pinned = api.get("/api/contracts/task/reserve_inventory", params={"version": "1"}).json()
    assert pinned["version"] == "1.10.0" and pinned["description"] == "now documented"
    exact = api.get("/api/contracts/task/reserve_inventory/1.0.0").json()
    assert exact == RESERVE
    latest = api.get("/api/contracts").json()
    assert [(c["name"], c["version"]) for c in latest] == [
        ("charge_payment", "1.2.0"),
        ("reserve_inventory", "2.0.0"),
    ]
    every = api.get("/api/contracts", params={"allVersions": "true", "kind": "task"}).json()
    assert len(every) == 4


def test_a_pushed_version_never_changes_and_a_refused_push_stores_nothing(api):
    api.post("/api/contracts", json=RESERVE)
    edited = {**RESERVE, "input": {"type": "object"}}
    other = {**CHARGE, "name": "refund"}
    response = api.post("/api/contracts", json=[other, edited])
    assert response.status_code == 409
    assert response.json()["field"] == "version"
    assert "already registered with different content" in response.json()["message"]
    assert api.get("/api/contracts/task/refund").status_code == 404
    assert api.get("/api/contracts/task/reserve_inventory").json() == RESERVE


def test_bad_contracts_are_refused_naming_the_field(api):
    cases = [
        ({**RESERVE, "version": "1.0"}, "version"),
        ({**RESERVE, "kind": "job"}, "kind"),
        ({**RESERVE, "output": {"type": "whatever"}}, "output.type"),
        ({**RESERVE, "payload": {}}, "payload"),
        ({"kind": "event", "name": "x", "version": "1.0.0"}, "payload"),
    ]
    for body, field in cases:
        response = api.post("/api/contracts", json=[CHARGE, body])
        assert response.status_code == 400, response.text
        assert response.json()["field"] == f"[1].{field}", response.json()
    assert api.get("/api/contracts").json() == []
    assert api.get("/api/contracts/job/x").status_code == 400
    assert api.get("/api/contracts/task/x/1.x").json()["field"] == "version"


# ---- enforcement as tasks run ----------------------------------------------------------------


def test_an_output_that_breaks_its_contract_fails_the_task_for_good(api):
    setup(api)
    run_id = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory", worker="inv-7")
    complete(api, task, {"reservation_id": "r1", "total": "12.50"}, worker="inv-7")
    body = wait_status(api, run_id)
    reserve = task_of(body, "reserve")
    assert body["status"] == "FAILED"
    assert reserve["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert reserve["retryCount"] == 0 and len(body["tasks"]) == 1  # not retried
    reason = reserve["reasonForIncompletion"]
    assert "task contract 'reserve_inventory' v1.0.0" in reason
    assert "at $.total: '12.50' is not of type 'number'" in reason
    assert "produced by service 'inventory' (task 'reserve_inventory', worker 'inv-7')" in reason
    assert reserve["outputData"] == {"reservation_id": "r1", "total": "12.50"}


def test_an_input_that_breaks_its_contract_is_never_handed_to_a_worker(api):
    setup(api)
    run_id = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory", worker="inv-7")
    assert complete(api, task, {"reservation_id": "r1", "total": -3}, worker="inv-7").is_success
    assert poll(api, "charge_payment", worker="pay-1", timeout_ms=300) == []
    body = wait_status(api, run_id)
    charge = task_of(body, "charge")
    assert charge["status"] == "FAILED_WITH_TERMINAL_ERROR"
    reason = charge["reasonForIncompletion"]
    assert "the input of task 'charge' (charge_payment)" in reason
    assert "task contract 'charge_payment' v1.2.0 at $.amount" in reason
    assert "-3 is less than the minimum of 0" in reason
    assert (
        "produced by service 'inventory' (task 'reserve', worker 'inv-7', via ${reserve.output.total})"
        in reason
    )


def test_a_missing_required_output_field_is_named(api):
    setup(api)
    run_id = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory")
    complete(api, task, {"reservation_id": "r1", "total": 10})
    [task] = poll(api, "charge_payment", worker="pay-1")
    assert task["inputData"] == {"amount": 10, "currency": "EUR"}
    complete(api, task, {"receipt": {}}, worker="pay-1")
    body = wait_status(api, run_id)
    reason = task_of(body, "charge")["reasonForIncompletion"]
    assert "at $.receipt.id: 'id' is a required property" in reason
    assert "service 'payments'" in reason and "worker 'pay-1'" in reason


def test_valid_payloads_flow_through(api):
    setup(api)
    run_id = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory")
    complete(api, task, {"reservation_id": "r1", "total": 10})
    [task] = poll(api, "charge_payment")
    complete(api, task, {"receipt": {"id": "rc-1"}})
    body = wait_status(api, run_id)
    assert (body["status"], body["output"]) == ("COMPLETED", {"receipt": "rc-1"})


def test_warn_mode_records_the_violation_and_goes_on(api):
    setup(api, mode="warn")
    run_id = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory")
    complete(api, task, {"reservation_id": "r1", "total": -1, "surprise": True})
    [task] = poll(api, "charge_payment")  # its input breaks the minimum, but is handed out
    assert task["inputData"]["amount"] == -1
    complete(api, task, {"receipt": {"id": "rc-1"}})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    logs = api.get(f"/api/tasks/{task_of(body, 'reserve')['taskId']}").json()["logs"]
    assert len(logs) == 1
    assert logs[0]["log"].startswith("warning: contract violation: the output of task 'reserve'")
    assert "at $.surprise: Additional properties are not allowed" in logs[0]["log"]


def test_off_mode_checks_nothing(api):
    setup(api, mode="off")
    run_id = start(api, "order", {"sku": 42})
    [task] = poll(api, "reserve_inventory")
    assert task["inputData"] == {"sku": 42}
    complete(api, task, {"total": "lots"})
    [task] = poll(api, "charge_payment")
    complete(api, task, {})
    assert wait_status(api, run_id)["status"] == "COMPLETED"


# ---- checks at registration ------------------------------------------------------------------


def test_malformed_contract_fields_of_a_task_def_are_refused(api):
    api.post("/api/contracts", json=RESERVE)
    bad = [
        {"name": "c", "inputSchema": "reserve_inventory"},
        {"name": "d", "inputSchema": {"name": "reserve_inventory"}, "contractMode": "loud"},
    ]
    response = api.post("/api/metadata/taskdefs", json=bad)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "[0].inputSchema must be an object" in message
    assert "[1].contractMode must be one of enforce, warn, off" in message
    assert api.get("/api/metadata/taskdefs").json() == []


def test_a_task_def_naming_an_unregistered_contract_registers_with_a_warning(api):
    api.post("/api/contracts", json=RESERVE)
    defs = [
        {"name": "a", "inputSchema": {"name": "nope", "version": 1, "type": "JSON"}},
        {"name": "b", "outputSchema": {"name": "reserve_inventory", "version": 3}},
        {"name": "e", "inputSchema": {"name": "events", "type": "AVRO"}, "enforceSchema": True},
    ]
    strict = api.post("/api/metadata/taskdefs", params={"strict": "true"}, json=defs)
    assert strict.status_code == 400
    assert api.get("/api/metadata/taskdefs").json() == []  # strict refused, nothing stored
    response = api.post("/api/metadata/taskdefs", json=defs)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        "[2].inputSchema.type: Podium checks only JSON schemas; 'AVRO' is stored, not enforced",
        "[0].inputSchema: no task contract 'nope' is registered; stored, not enforced until it is",
        "[1].outputSchema: task contract 'reserve_inventory' has no version 3 (registered: "
        "1.0.0); stored, not enforced until it is",
    ]
    for task_def in defs:  # stored and returned as given
        got = api.get(f"/api/metadata/taskdefs/{task_def['name']}").json()
        assert {k: got[k] for k in task_def} == task_def


def test_a_workflow_whose_references_break_contracts_is_refused_with_every_problem(api):
    setup(api)
    broken = {
        **ORDER,
        "name": "broken",
        "tasks": [
            ORDER["tasks"][0],
            {
                "name": "charge_payment",
                "taskReferenceName": "charge",
                "inputParameters": {
                    "amount": "${reserve.output.reservation_id}",
                    "currency": 978,
                    "note": "${reserve.output.totl}",
                },
            },
        ],
        "outputParameters": {"receipt": "${charge.output.receipt.id.deeper}"},
    }
    response = api.post("/api/metadata/workflow", json=broken)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.count(";") >= 3, message
    assert (
        "tasks[1].inputParameters.amount (task 'charge'): '${reserve.output.reservation_id}' "
        "gives string, but input contract 'charge_payment' v1.2.0 wants number here"
    ) in message
    assert (
        "tasks[1].inputParameters.currency (task 'charge'): the constant 978 is integer" in message
    )
    assert (
        "'${reserve.output.totl}' reads a field task 'reserve' cannot have: output contract "
        "'reserve_inventory' v1.0.0 says the payload declares no field 'totl' and allows no "
        "others (additionalProperties: false)"
    ) in message
    assert (
        "'${charge.output.receipt.id.deeper}'" in message
        and "'receipt.id' is declared as string" in message
    )
    assert api.get("/api/metadata/workflow/broken").status_code == 404


def test_required_inputs_must_be_wired(api):
    setup(api)
    unwired = {
        "name": "unwired",
        "version": 1,
        "tasks": [{"name": "charge_payment", "taskReferenceName": "charge", "inputParameters": {}}],
    }
    response = api.post("/api/metadata/workflow", json=unwired)
    assert response.status_code == 400
    assert (
        "tasks[0].inputParameters.amount (task 'charge'): input contract 'charge_payment' "
        "v1.2.0 requires 'amount', which is not wired"
    ) in response.json()["message"]


def test_the_catalogue_lists_services_tasks_and_workflows(api):
    setup(api)
    text = api.get("/api/contracts/catalogue").text
    assert "## Service `inventory`" in text and "## Service `payments`" in text
    assert "| `amount` | number, >= 0 | yes |  |" in text
    assert "### Workflow `order` v1" in text
    page = api.get("/api/contracts/catalogue", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<h2>Service <code>payments</code></h2>" in page.text
    assert api.get("/api/contracts/catalogue", params={"format": "pdf"}).status_code == 400


ORDER_CONTRACT = {
    "kind": "workflow",
    "name": "order",
    "version": "1.0.0",
    "input": {
        "type": "object",
        "required": ["sku"],
        "properties": {"sku": {"type": "string", "pattern": "^[A-Z]+-\\d+$"}},
    },
    "output": {"type": "object", "properties": {"receipt": {"type": "string"}}},
}


def test_a_run_whose_input_breaks_the_workflow_contract_is_refused(api):
    api.post("/api/contracts", json=[RESERVE, CHARGE, ORDER_CONTRACT])
    register(api, {**ORDER, "inputSchema": {"name": "order"}}, task_defs())
    response = api.post("/api/workflow/order", json={"sku": "abc"})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "input.sku"
    assert "workflow contract 'order' v1.0.0 at $.sku: 'abc' does not match" in body["message"]
    assert api.get("/api/workflow/search", params={"name": "order"}).json()["totalHits"] == 0
    assert api.post("/api/workflow/order", json={"sku": "ABC-1"}).status_code == 200


def test_a_workflow_contract_in_warn_mode_lets_the_run_start(api):
    api.post("/api/contracts", json=[RESERVE, CHARGE, ORDER_CONTRACT])
    flow = {**ORDER, "inputSchema": {"name": "order"}, "enforceSchema": False}
    register(api, flow, task_defs())
    assert api.post("/api/workflow/order", json={"sku": 7}).status_code == 200


def test_workflow_references_are_checked_against_the_workflow_contract(api):
    api.post(
        "/api/contracts",
        json=[
            RESERVE,
            CHARGE,
            {**ORDER_CONTRACT, "input": {**ORDER_CONTRACT["input"], "additionalProperties": False}},
        ],
    )
    flow = {
        **ORDER,
        "inputSchema": {"name": "order"},
        "outputSchema": {"name": "order"},
        "outputParameters": {"receipt": "${charge.output.receipt}"},
        "tasks": [
            {**ORDER["tasks"][0], "inputParameters": {"sku": "${workflow.input.skew}"}},
            ORDER["tasks"][1],
        ],
    }
    api.post("/api/metadata/taskdefs", json=task_defs())
    response = api.post("/api/metadata/workflow", json=flow)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "'${workflow.input.skew}' reads a field the workflow's input cannot have" in message
    assert (
        "outputParameters.receipt: '${charge.output.receipt}' gives object, but output contract "
        "'order' v1.0.0 wants string here"
    ) in message


def test_update_v2_skips_a_next_task_whose_input_breaks_its_contract(api):
    setup(api)
    good = start(api, "order", {"sku": "ABC-1"})
    [task] = poll(api, "reserve_inventory", worker="inv-1")
    bad = start(api, "order", {"sku": 42})
    body = {
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "workerId": "inv-1",
        "outputData": {"reservation_id": "r1", "total": 5},
    }
    response = api.post("/api/tasks/update-v2", json=body)
    assert response.status_code == 204  # the only other reserve task was failed, not handed out
    failed = wait_status(api, bad)
    reason = task_of(failed, "reserve")["reasonForIncompletion"]
    assert "at $.sku: 42 is not of type 'string'" in reason
    assert (
        "produced by the caller that started workflow 'order' v1 (${workflow.input.sku})" in reason
    )
    [charge] = poll(api, "charge_payment")
    assert charge["workflowInstanceId"] == good


def test_a_task_def_schema_is_enforced_once_registered_and_only_with_enforce_schema(api):
    def run_with_bad_input() -> dict:
        run_id = start(api, "one", {"sku": 7})  # the contract wants a string
        polled = poll(api, "reserve_inventory")
        return {"polled": polled, "run": wait_status(api, run_id, {"RUNNING", "FAILED"})}

    schema = {"name": "reserve_inventory", "version": 1, "type": "JSON"}
    flow = {
        "name": "one",
        "tasks": [
            {
                "name": "reserve_inventory",
                "taskReferenceName": "r",
                "inputParameters": {"sku": "${workflow.input.sku}"},
            }
        ],
    }
    answer = api.post(
        "/api/metadata/taskdefs",
        json=[{"name": "reserve_inventory", "inputSchema": schema, "enforceSchema": True}],
    )
    assert "no task contract 'reserve_inventory' is registered" in answer.json()["warnings"][0]
    workflow = api.post("/api/metadata/workflow", params={"overwrite": "true"}, json=flow)
    assert workflow.status_code == 200, workflow.text
    assert "is registered; stored, not enforced" in workflow.json()["warnings"][-1]
    unregistered = run_with_bad_input()
    assert len(unregistered["polled"]) == 1  # nothing to check against: handed out
    complete(api, unregistered["polled"][0], {"reservation_id": "x", "total": 1})

    api.post("/api/contracts", json=RESERVE)
    enforced = run_with_bad_input()
    assert enforced["polled"] == []
    assert enforced["run"]["status"] == "FAILED"
    assert (
        "breaks task contract 'reserve_inventory' v1.0.0"
        in enforced["run"]["reasonForIncompletion"]
    )

    api.post(
        "/api/metadata/taskdefs",
        json=[{"name": "reserve_inventory", "inputSchema": schema, "enforceSchema": False}],
    )
    reported = run_with_bad_input()
    assert len(reported["polled"]) == 1  # enforceSchema false: a violation is only logged
