"""The one error hierarchy every vendor client maps its failures into."""


class VendorError(Exception):
    """A vendor call failed. Messages never carry secrets, raw credentials or the vendor's
    reply body: they reach admin messages, pages and API answers (see `status_summary`)."""


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


def status_summary(status: int) -> str:
    """A fixed description of an HTTP error status, for a VendorError's message.

    Never the vendor's own words: a Base URL pointed at another host would otherwise read
    that host's answers back through the admin.
    """
    if status in (401, 403):
        return "the vendor refused the credentials"
    if status == 404:
        return "the vendor has no such record"
    if status == 429:
        return "the vendor asked us to slow down"
    if status >= 500:
        return "the vendor failed to answer"
    return "the vendor refused the request"
