"""Login throttling with django-axes: one throttle for every way to log in (/accounts/login/,
/admin/login/, any authenticate() call), with counts in Django's database, shared by every worker.

Five failures for one username, or twenty from one address, within 15 minutes lock that login
for 15 minutes (HTTP 429), and a locked attempt is refused before the password is checked (axes'
backend comes first in AUTHENTICATION_BACKENDS). The hooks below are named in settings (AXES_*).
"""
import ipaddress
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

PER_USERNAME = 5
PER_ADDRESS = 20
COOL_OFF = timedelta(minutes=15)


def failure_limit(request, credentials):
    """AXES_FAILURE_LIMIT. Axes counts failures by username and by address and locks when the
    larger count reaches one limit; two limits come out of one by asking the username's first:
    once the username has five, the limit is five (the username is locked), otherwise it is
    twenty, which only the address's count can reach."""
    username = get_client_username(request, credentials)
    recent = AccessAttempt.objects.filter(username=username,
                                          attempt_time__gte=get_cool_off_threshold(request))
    failures = recent.aggregate(n=Sum("failures_since_start"))["n"] or 0
    return PER_USERNAME if failures >= PER_USERNAME else PER_ADDRESS


class LoginThrottle(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler, but a good login clears only that username's
    failures. Axes would also clear every failure from the address, so anyone with an account
    of their own could guess another user's password four times, log in, and start again."""

    def reset_user_attempts(self, request, credentials=None):
        username = get_client_username(request, credentials)
        return AccessAttempt.objects.filter(username=username).delete()[0]


def lockout_response(request, original_response, credentials):
    """AXES_LOCKOUT_CALLABLE: the login page with the lock explained and an empty form (429).

    The failure that reaches a limit had its password checked, so it answers like any wrong
    password; the attempts after it are refused unchecked. Axes leaves the failure count unset
    on those (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False: they are not recorded)."""
    if request.axes_failures_since_start is not None:
        return original_response
    context = {"form": AuthenticationForm(request), "throttled": int(COOL_OFF.total_seconds()) // 60,
               "next": _safe_next(request)}
    return render(request, "registration/login.html", context, status=429)


def _safe_next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return target if safe else ""


def client_address(request):
    """AXES_CLIENT_IP_CALLABLE: the address that is throttled. REMOTE_ADDR, unless it is one of
    KB_TRUSTED_PROXIES: then the right-most X-Forwarded-For entry that is not a trusted proxy,
    since each proxy appends the address it saw and everything left of that is the client's own text."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    while _trusted(address) and hops:
        hop = hops.pop()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a proxy that sends no address: keep the last one known
        address = hop
    return address


def _trusted(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.KB_TRUSTED_PROXIES)
