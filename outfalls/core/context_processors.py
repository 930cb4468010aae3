from django.conf import settings

from .scopes import scope_of


def platform(request):
    scope = scope_of(getattr(request, "user", None))
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "user_scope": scope,
    }
