"""Requests the API fuzzer found answered with 5xx: each now gets a 4xx and changes nothing."""

from __future__ import annotations

HUGE = 712071991196787671040  # past 64 bits: no stored number can equal it


def test_a_number_past_64_bits_is_a_bad_request_not_a_server_error(api):
    response = api.post(f"/api/workflow/execute/anything/{HUGE}")
    assert 400 <= response.status_code < 500, response.text
    response = api.post("/api/workflow/anything", params={"version": HUGE}, json={})
    assert 400 <= response.status_code < 500, response.text
    found = api.get("/api/workflow/search", params={"query": "workflowType='anything'"})
    assert found.json()["totalHits"] == 0
