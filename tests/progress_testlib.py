"""A progress reporter that records what a loop tells it, for the tests of the loops that
report (renders, dataset searches, the figures' and the appendix's hand-stepped loops)."""

from lucid2.optvis import progress


class Recording(progress.Reporter):
    """Records what a loop tells its reporter: ("start", total, label, unit),
    ("update", done, {name: value}) and ("finish",) events, in order."""

    def __init__(self):
        self.events = []

    def start(self, total, label="", unit=progress.DEFAULT_UNIT):
        self.events.append(("start", total, label, unit))

    def update(self, done, values=None):
        self.events.append(("update", done, {k: float(v) for k, v in (values or {}).items()}))

    def finish(self):
        self.events.append(("finish",))

    def updates(self) -> list[int]:
        """The ``done`` counts of the updates, in order."""
        return [event[1] for event in self.events if event[0] == "update"]

    def starts(self) -> list[tuple]:
        """The ``(total, label, unit)`` of each start, in order."""
        return [event[1:] for event in self.events if event[0] == "start"]
