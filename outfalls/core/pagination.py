from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

from . import params

# From this offset on, a page is read as ids first, then the rows with their joins.
DEEP_PAGE_OFFSET = 1000


class IdsFirstPaginator(Paginator):
    """Deep pages without joining every skipped row.

    `OFFSET 50000` with five joins makes the database build 50,000 joined rows to throw away. Selecting the
    page's primary keys first walks only the ordering index; the joined rows are then fetched by key.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < DEEP_PAGE_OFFSET or not hasattr(self.object_list, "values_list"):
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


class Pagination(PageNumberPagination):
    """{count, next, previous, results}; ?page=N&page_size=M (at most 500: larger sizes give 500).

    Strict, unlike DRF's (which falls back to the default size for ``page_size=abc``): a page or page
    size that is not a positive integer is a 400 (ParamError); a page after the last is DRF's 404.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = IdsFirstPaginator

    def get_page_size(self, request):
        size = params.parse_int(
            request.query_params.get(self.page_size_query_param),
            self.page_size_query_param,
            default=self.page_size,
            minimum=1,
        )
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        text = request.query_params.get(self.page_query_param)
        if text in self.last_page_strings:
            return paginator.num_pages
        return params.parse_int(text, self.page_query_param, default=1, minimum=1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters
