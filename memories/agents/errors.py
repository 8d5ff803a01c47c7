"""Why a request made with an API key is refused; each error carries its HTTP status.

KeyError401 deliberately says the same for a missing, wrong, expired or revoked key and for a
key of another client database, so a caller learns nothing about keys it does not hold.
"""
from ..errors import KBError


class AgentError(KBError):
    status = 400


class KeyError401(AgentError):
    status = 401

    def __init__(self, message="Invalid API key (missing, wrong, expired or revoked)."):
        super().__init__(message)


class KeyError403(AgentError):
    status = 403

    def __init__(self, message="This API key may only read; writing needs a write key."):
        super().__init__(message)


class RateLimited(AgentError):
    status = 429

    def __init__(self, retry_after_s, kind="requests"):
        self.retry_after_s = max(1, int(retry_after_s))
        super().__init__(f"Rate limit exceeded for {kind}: retry after {self.retry_after_s} s.",
                         headers={"Retry-After": str(self.retry_after_s)})


class BodyTooLarge(AgentError):
    status = 413
