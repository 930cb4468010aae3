"""API renderers (REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"])."""

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML view of the API without the inline <style> of code colours it adds when Pygments is
    installed: the Content-Security-Policy allows style sheets only from static files."""

    def get_context(self, *args, **kwargs):
        context = super().get_context(*args, **kwargs)
        context["code_style"] = None
        return context
