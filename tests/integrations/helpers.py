"""What every vendor's tests share."""


def sleeps_recorded(monkeypatch, *connectors) -> list[float]:
    """The HTTP layer's sleeps (backoff, Retry-After, pacing) of these connectors, recorded
    instead of slept; returned so a test can see the waits it asked for."""
    sleeps: list[float] = []
    for connector in connectors:
        monkeypatch.setattr(connector, "http_options", {"sleep": sleeps.append, "backoff": 0.01}, raising=False)
    return sleeps

