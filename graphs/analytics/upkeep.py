"""Graph analytics as a step of the worker's read-model upkeep (memories/worker/upkeep.py).

graphs/apps.py registers it, so the worker computes ranks, communities and the causal views after
changes without memories importing graphs. The step owns the child process of the debounced
full runs (background.FullRuns) and the steps' pace (schedule.StepPace) for as long as the
worker's upkeep thread runs.
"""
from django.conf import settings

from memories.worker.upkeep import UpkeepStep

from .background import FullRuns
from .schedule import StepPace
from .services import analytics_refresh


class AnalyticsUpkeep(UpkeepStep):
    name = "graph analytics"
    order = 10  # first in each tick: the analytics lag (write -> ranks) is a target of the benchmarks

    def __init__(self):
        self.fulls = FullRuns()
        self.pace = StepPace(settings.KB_ANALYTICS_STEP_INTERVAL)

    def refresh(self, client):
        analytics_refresh(client, fulls=self.fulls, pace=self.pace)

    def close(self):
        self.fulls.close()
