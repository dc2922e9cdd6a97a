"""The one error the scripting package raises."""

from __future__ import annotations

from podium.errors import PodiumError

__all__ = ["ScriptError"]


class ScriptError(PodiumError):
    """The script could not be run, failed, or returned something that is not JSON.

    ``code`` says which: ``E_SCRIPT_SYNTAX`` (it does not compile), ``E_SCRIPT`` (it threw),
    ``E_SCRIPT_TIMEOUT`` and ``E_SCRIPT_MEMORY`` (it hit a limit and was stopped),
    ``E_SCRIPT_INPUT`` (its inputs are not JSON) and ``E_SCRIPT_RESULT`` (its result is not JSON).
    """

    status_code = 400
    code = "E_SCRIPT"

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "scripting",
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, service=service, field=field, code=code)
