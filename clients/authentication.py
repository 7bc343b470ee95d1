"""DRF authentication for the member app: `Authorization: Bearer <access token>`.

Any API view for members (me, doors) lists MemberTokenAuthentication and IsMember;
`request.user` is then a Member wrapping the client, `request.auth` the MemberToken.
"""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from clients.models import Client
from clients.tokens import member_token_authenticate


@dataclass(frozen=True)
class Member:
    """The authenticated member of a request (not a Django user: no admin rights)."""

    client: Client
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self):
        return self.client.pk


class MemberTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a member by an access token issued by clients.tokens."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.") from None
        row = member_token_authenticate(token=token)
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid or expired access token.")
        return Member(client=row.client), row

    def authenticate_header(self, request):
        return f'{self.keyword} realm="gatehouse"'


class IsMember(permissions.BasePermission):
    """Only an authenticated member (a staff session is not a member)."""

    def has_permission(self, request, view):
        return isinstance(request.user, Member)


class MemberTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes MemberTokenAuthentication."""

    target_class = "clients.authentication.MemberTokenAuthentication"
    name = "memberToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An access token from POST /api/v1/auth/login (15 minutes)."}
