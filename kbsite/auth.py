"""Login with throttling: repeated failures for one username, or from one address, are
refused for a while (HTTP 429) before the password is even checked.

Counts live in a file-based cache under KB_DATA_DIR, shared by every gunicorn worker.
"""
import hashlib

from django.contrib.auth.views import LoginView
from django.core.cache import caches

WINDOW_S = 15 * 60
PER_USERNAME = 5
PER_ADDRESS = 20


def _keys(request):
    username = (request.POST.get("username") or "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(username.encode()).hexdigest()[:32]
    return [(f"login:user:{digest}", PER_USERNAME), (f"login:addr:{address}", PER_ADDRESS)]


class ThrottledLoginView(LoginView):
    def post(self, request, *args, **kwargs):
        cache = caches["throttle"]
        if any((cache.get(key) or 0) >= limit for key, limit in _keys(request)):
            # An unbound form: the password is not even checked while the lock holds.
            form = self.get_form_class()(request)
            context = self.get_context_data(form=form, throttled=WINDOW_S // 60)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        cache = caches["throttle"]
        for key, _ in _keys(self.request):
            cache.add(key, 0, WINDOW_S)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, WINDOW_S)
        return super().form_invalid(form)

    def form_valid(self, form):
        caches["throttle"].delete(_keys(self.request)[0][0])
        return super().form_valid(form)
