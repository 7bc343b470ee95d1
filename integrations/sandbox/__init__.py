"""In-repo fakes of the vendors: one fake, two transports (WSGI server, `responses`)."""

from integrations.sandbox.base import Fault, Sandbox, SandboxRequest, SandboxResponse, route

__all__ = ["Fault", "Sandbox", "SandboxRequest", "SandboxResponse", "route"]
