from django.conf import settings
from django.db import models

from memories.models import ClientDatabase


class Job(models.Model):
    """One piece of long work, whatever its kind: what the pages show and what crash recovery reads.

    The task library (django-tasks' database backend) only carries "run job N" to the worker;
    this row says what N is, how far it got and why it stopped.
    """

    QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
    STATUS_CHOICES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED, CANCELLED)]
    ACTIVE = (QUEUED, RUNNING)

    kind = models.CharField(max_length=32)
    client = models.ForeignKey(ClientDatabase, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="jobs")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=QUEUED, db_index=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    message = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    max_attempts = models.IntegerField(default=3)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running it.")
    task_id = models.CharField(max_length=64, blank=True, help_text="Its task in django_tasks_db.")
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Cancel pressed while it ran: it stops at its next chunk's end.")
    cancelled_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "kind", "status"])]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def active(self):
        return self.status in self.ACTIVE

    @property
    def label(self):
        from .kinds import KINDS

        return KINDS[self.kind].label if self.kind in KINDS else self.kind

    @property
    def stoppable(self):
        """Cancel is offered: queued, or running and its kind stops at a chunk's end."""
        from .kinds import KINDS

        if self.status == self.QUEUED:
            return True
        kind = KINDS.get(self.kind)
        return (self.status == self.RUNNING and kind is not None and kind.stops_at_chunks
                and not self.cancelling)

    @property
    def cancelling(self):
        return self.status == self.RUNNING and self.cancel_requested_at is not None

    @property
    def percent(self):
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else None
