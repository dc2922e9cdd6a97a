"""User scripts in workflow definitions: Conductor's JavaScript, sandboxed.

``evaluate_javascript`` runs INLINE and SWITCH ``javascript`` expressions in an embedded
QuickJS engine. It takes and returns JSON data and raises :class:`ScriptError` for anything
that goes wrong in the script.
"""

from podium.scripting.errors import ScriptError
from podium.scripting.javascript import evaluate_javascript

__all__ = ["ScriptError", "evaluate_javascript"]
