import ctypes
import os

from django.core.wsgi import get_wsgi_application

# glibc's mallopt() parameter for the most malloc arenas a process may have.
M_ARENA_MAX = -8


def _fewer_malloc_arenas(arenas=2):
    """glibc gives each thread that contends for malloc an arena of its own (up to 8 per core)
    and keeps the memory freed there: with 4 threads per web worker that was 4-8 MB of each
    worker's peak RSS (issue 11; CPU unchanged). Set here, before gunicorn starts a worker's
    threads, so that `make run` and docker-compose, which both serve this module, get it; an
    explicit MALLOC_ARENA_MAX wins."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(M_ARENA_MAX, arenas)


_fewer_malloc_arenas()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbsite.settings")
application = get_wsgi_application()
