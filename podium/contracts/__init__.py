"""Contracts: versioned JSON Schemas for task, workflow and event payloads.

``model`` (the contract and its JSON shape), ``files`` (a folder of contract files),
``registry`` (the registry in a store transaction), ``binding`` (how a TaskDef or WorkflowDef
names its contracts), ``validator`` and ``runtime`` (checking payloads as tasks run),
``references`` (checking a workflow's data flow at registration), ``compat``/``check``/
``report`` (what a new version breaks, for CI) and ``catalogue`` (the readable "score").
"""
