from django.conf import settings

from .choices import Role
from .scopes import scope_of

# Modules of the platform still to be built (DESIGN.md); shown greyed out in the navigation.
UPCOMING_MODULES = ("审核登记", "监测", "监督执法", "统计报表")


def platform(request):
    scope = scope_of(getattr(request, "user", None))
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "user_scope": scope,
        "user_roles": sorted({Role(g.role).label for g in scope.grants}),
        "upcoming_modules": UPCOMING_MODULES,
        "can_import": scope.can_import,
    }
