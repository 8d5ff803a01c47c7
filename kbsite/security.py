"""Security headers on every response: a strict Content-Security-Policy and friends.

Scripts and styles come only from our own static files (no inline script anywhere: data
for scripts travels in `<script type="application/json">`, which is never executed). A view
may set its own `frame-ancestors` (embed pages, for the wikis in KB_EMBED_ORIGINS); the
rest of the policy is added around it. Django's admin keeps inline style attributes
(`style-src 'unsafe-inline'` there only); its scripts are files too.
"""
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_for(path, existing=""):
    policy = dict(POLICY)
    for directive in filter(None, (d.strip() for d in existing.split(";"))):
        name, _, value = directive.partition(" ")
        policy[name] = value
    if path.startswith("/admin/"):
        policy["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Content-Security-Policy"] = policy_for(request.path,
                                                         response.get("Content-Security-Policy", ""))
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
