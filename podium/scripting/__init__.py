"""User scripts in workflow definitions: Conductor's JavaScript and jq, sandboxed.

``evaluate_javascript`` runs INLINE and SWITCH ``javascript`` expressions in an embedded
QuickJS engine; ``run_jq`` runs JSON_JQ_TRANSFORM queries. Both take and return JSON data and
raise :class:`ScriptError` for anything that goes wrong in the script.
"""

from podium.scripting.errors import ScriptError
from podium.scripting.javascript import evaluate_javascript
from podium.scripting.jq import run_jq

__all__ = ["ScriptError", "evaluate_javascript", "run_jq"]
