"""The one error hierarchy every vendor client maps its failures into."""


class VendorError(Exception):
    """A vendor call failed. Messages never carry secrets or raw credentials."""


class AuthError(VendorError):
    """The vendor refused our credentials (fix the integration's settings)."""


class RateLimited(VendorError):
    """The vendor asked us to slow down for `retry_after` seconds."""

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(VendorError):
    """Worth trying again later: 5xx, timeouts, dropped connections."""


class PermanentError(VendorError):
    """Trying again will not help: a 4xx other than auth and rate limits, a vendor fault."""


class BadRecord(VendorError):
    """One vendor record cannot be used; it becomes a SyncIssue and the page goes on."""

    def __init__(self, reason: str, *, payload=None, key: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.payload = payload
        self.key = key
