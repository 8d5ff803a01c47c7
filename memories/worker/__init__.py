"""Long work, out of the web processes: jobs queued by web requests, run by `manage.py kb_worker`.

models (the Job record), jobs (queue, retry, progress), kinds (what each kind of job does),
runner (the worker's job threads and in-process `run_pending`), recovery (jobs whose worker died).
"""
