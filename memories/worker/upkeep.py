"""Read-model upkeep the worker runs after changes, for steps that other rooms and apps register.

The worker's upkeep thread (threads.AnalyticsThread) calls every registered step for each active
client database about twice a second; a step finds out itself whether its database changed
(the read model's stamps) and returns quickly when it did not. graphs registers its analytics
(graphs/apps.py), memories the typo suggestions' vocabulary (memories/apps.py), so the worker
runs graph analytics without importing graphs.

A step is a class: the thread makes one instance when it starts, calls ``refresh(client)`` for
each database and ``close()`` when it stops (a step may own a child process, as the analytics'
full runs do).
"""

_STEPS = []


class UpkeepStep:
    """One kind of read-model upkeep. Subclasses must implement ``refresh``."""

    name = "upkeep"  # for the log: "<client>: <name> failed"
    order = 50  # lower runs first in each tick

    def refresh(self, client):
        """Bring this step's tables of ``client``'s read model up to date, if it changed."""
        raise NotImplementedError("subclasses of UpkeepStep must provide a refresh() method")

    def close(self):
        """Release what the step holds (child processes), when the thread stops."""


def upkeep_register(step_class):
    """Run ``step_class`` in the worker's upkeep thread (call it from an AppConfig.ready)."""
    if step_class not in _STEPS:
        _STEPS.append(step_class)


def upkeep_steps():
    """A new instance of every registered step, by ``order``, then in registration order."""
    return [step_class() for step_class in sorted(_STEPS, key=lambda step_class: step_class.order)]
