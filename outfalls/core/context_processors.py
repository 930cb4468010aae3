from django.conf import settings

from .choices import Role
from .scopes import scope_of


def platform(request):
    scope = scope_of(getattr(request, "user", None))
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "user_scope": scope,
        "user_roles": sorted({Role(g.role).label for g in scope.grants}),
        "can_import": scope.can_import,
    }
