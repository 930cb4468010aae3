from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

from . import params

# From this offset on, a page is read as ids first, then the rows with their joins.
DEEP_PAGE_OFFSET = 1000


class IdsFirstPaginator(Paginator):
    """Deep pages without joining every skipped row, and estimated counts where counting would read everything.

    `OFFSET 50000` with five joins makes the database build 50,000 joined rows to throw away. Selecting the
    page's primary keys first walks only the ordering index; the joined rows are then fetched by key. A
    queryset whose `read_ids_first` is true is read so on every page (an outfall search: PostgreSQL would join
    every match before sorting them).

    The count is the object list's count_or_estimate() where it has one (an outfall search that many rows
    match, registry/search.py); `count_estimated` then says it is an estimate, and the number of pages with it.
    A page is still read by its offset, not cut at the estimated count; a page after the last one with rows
    is an EmptyPage either way.
    """

    count_estimated = False

    @cached_property
    def count(self):
        count_or_estimate = getattr(self.object_list, "count_or_estimate", None)
        if count_or_estimate is None:
            return super().count
        count, self.count_estimated = count_or_estimate()
        return count

    def validate_number(self, number):
        if self.count_estimated:
            number = self._validate_number_type(number)
            if number < 1:
                raise EmptyPage(self.error_messages["min_page"])
            return number
        return super().validate_number(number)

    def _validate_number_type(self, number):
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.count_estimated:
            top += 1  # one row more tells whether a next page follows
        elif top + self.orphans >= self.count:
            top = self.count
        ids_first = bottom >= DEEP_PAGE_OFFSET or getattr(self.object_list, "read_ids_first", False)
        if not ids_first or not hasattr(self.object_list, "values_list"):
            rows = list(self.object_list[bottom:top])
        else:
            ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
            by_pk = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
            rows = [by_pk[pk] for pk in ids if pk in by_pk]
        if not self.count_estimated:
            return self._get_page(rows, number, self)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs):
        return CountedPage(*args, **kwargs)


class CountedPage(Page):
    """A page; of an estimated count, it knows from its rows whether another page follows."""

    more = None  # set on a page of an estimated count

    def has_next(self):
        return super().has_next() if self.more is None else self.more


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

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.page.paginator.count_estimated:
            response.data = {"count": response.data["count"], "count_estimated": True, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        response_schema = super().get_paginated_response_schema(schema)
        response_schema["properties"]["count"]["description"] = (
            "符合条件的条数；count_estimated 为 true 时是估计数（按抽样估算，约两位有效数字）"
        )
        response_schema["properties"] = {
            "count": response_schema["properties"]["count"],
            "count_estimated": {
                "type": "boolean",
                "description": "仅在 count 为估计数时出现且为 true：命中很多排污口的检索词（docs/search.md）",
            },
            **response_schema["properties"],
        }
        return response_schema
