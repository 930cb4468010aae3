"""整治销号 pages: rules and proposals (proposal_urls), plans, close-out and supervision (plan_urls)."""

from .plan_urls import urlpatterns as plan_patterns
from .proposal_urls import urlpatterns as proposal_patterns

app_name = "remediation"
urlpatterns = proposal_patterns + plan_patterns
