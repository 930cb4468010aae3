"""排查溯源 pages: campaigns, points and field checks (campaign_urls), tracing and progress (tracing_urls)."""

from .campaign_urls import urlpatterns as campaign_patterns
from .tracing_urls import urlpatterns as tracing_patterns

app_name = "survey"
urlpatterns = campaign_patterns + tracing_patterns
