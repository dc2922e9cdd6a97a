"""The one error a schedule's bad field raises, shared by the spec and its cron parser."""

from podium.errors import ValidationError

__all__ = ["SpecError"]


class SpecError(ValidationError):
    """A schedule's field holds a value Podium cannot schedule by; ``field`` names it."""

    code = "E_SCHEDULE"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, service="schedules", field=field)

    def __str__(self) -> str:
        # What the CLI prints and a paused schedule's reason says: the field, then why.
        return f"{self.field}: {self.message}"
