"""The one task the queue carries: "run job N". What N does is its Job row's kind (kinds.py)."""
from django_tasks import task


@task()
def run_job(job_id):
    from .runner import execute

    return execute(job_id)
