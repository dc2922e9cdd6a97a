"""The one error a schedule's bad field raises, shared by the spec and its cron parser."""

__all__ = ["SpecError"]


class SpecError(ValueError):
    """A schedule's field holds a value Podium cannot schedule by; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
