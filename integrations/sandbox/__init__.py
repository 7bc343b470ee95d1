"""In-repo fakes of the vendors: one fake, two transports (WSGI server, `responses`)."""

from integrations.sandbox.base import CONTROL_PREFIX, Fault, Sandbox, SandboxRequest, SandboxResponse, route

__all__ = ["CONTROL_PREFIX", "Fault", "Sandbox", "SandboxRequest", "SandboxResponse", "route"]
