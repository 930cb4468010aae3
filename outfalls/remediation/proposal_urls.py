"""整治规则 and 措施建议 pages (proposal_views)."""

from django.urls import path

from . import proposal_views as views

urlpatterns = [
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/run/", views.rule_run, name="rule_run"),
    path("proposals/", views.ProposalListView.as_view(), name="proposal_list"),
    path("proposals/accept/", views.proposal_bulk_accept, name="proposal_bulk_accept"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
]
