"""The REST API's shared contract (settings.REST_FRAMEWORK): one error shape, strict query parameters, and an
OpenAPI schema that documents both. Every app's api.py uses these through the settings; see docs/api.md.

- Errors: every 4xx answer is ``{"detail": "中文说明", "errors": {"参数或字段": ["问题", ...]}}`` (``errors``
  only when a parameter or field is at fault): DRF's own errors, django-filter's, a service's
  ``ValidationError`` and a ``ParamError`` (core/params.py) alike.
- Query parameters: an invalid filter value, an unknown parameter and a parameter given twice are a 400,
  never silently ignored. Known are the FilterSet's filters (which include ``ordering``), ``page``,
  ``page_size`` and ``format``. An empty value means the parameter is not given (as HTML forms send it).
- Schema: every operation documents 400, 401, 403 and 404 with the error shape (core/api_schema.py; a
  separate module, as DRF imports this one while drf-spectacular's schema module is still loading DRF).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, parsers, serializers

from .params import ParamError

#: Query parameters every endpoint knows besides its filters and paging (DRF's format override).
FRAMEWORK_PARAMS = ("format",)
#: Keys of an error payload that are about the request as a whole, not one field.
GENERAL_KEYS = ("detail", "non_field_errors", "__all__")


# Errors -----------------------------------------------------------------------------------------------------
class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    detail = serializers.CharField(help_text="中文说明，点名出错的参数或字段")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="出错的参数或字段 → 问题（仅当问题出在某个参数或字段时）",
    )


def _messages(value, prefix=""):
    """(key, message) pairs from DRF's nested error data (str, list or dict)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _messages(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _messages(inner, prefix)
    else:
        yield prefix, str(value)


def error_body(data):
    """DRF's error data (a string, a list or a dict of lists) as the one error shape."""
    general, errors = [], {}
    for key, message in _messages(data if isinstance(data, dict) else {"detail": data}):
        if key in GENERAL_KEYS or not key:
            general.append(message)
        else:
            errors.setdefault(key, []).append(message)
    # The request-wide messages when there are any (they already name what is wrong), else each field's.
    parts = general or [f"{key}：{'；'.join(messages)}" for key, messages in errors.items()]
    body = {"detail": "；".join(parts) or "请求有误。"}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    """DRF's handler, plus ParamError and a service's ValidationError as 400s; every error in one shape."""
    if isinstance(exc, ParamError):
        exc = exceptions.ValidationError({exc.name: [exc.message]})
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    from rest_framework.views import (
        exception_handler as drf_exception_handler,
    )  # imports generics: not at load

    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code >= 400:
        response.data = error_body(response.data)
    return response


# Request bodies ---------------------------------------------------------------------------------------------
NUL_MESSAGE = "请求内容含有空字符（\\u0000），无法保存，请删除后重试。"


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    if hasattr(value, "lists"):  # a QueryDict: every value of every key
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.lists())
    return False


class _NulGuard:
    """A NUL character in any text of a body (a field, a key, a value deep in JSON) is a 400 before any field
    reads it: PostgreSQL refuses NUL in text and jsonb, so it would otherwise end as a server error in whatever
    lookup or save meets it first (SQLite would store it silently)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        data = getattr(parsed, "data", parsed)  # multipart: DataAndFiles
        if _holds_nul(data):
            raise exceptions.ParseError(NUL_MESSAGE)
        return parsed


class JSONParser(_NulGuard, parsers.JSONParser):
    pass


class FormParser(_NulGuard, parsers.FormParser):
    pass


class MultiPartParser(_NulGuard, parsers.MultiPartParser):
    pass


# Query parameters -------------------------------------------------------------------------------------------
class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, strict: an unknown query parameter is a 400 naming the known ones, so is a
    parameter given twice (the FilterSet would read only the last), and an invalid filter value is a 400
    (django-filter's ``raise_exception``, kept on)."""

    raise_exception = True

    def filter_queryset(self, request, queryset, view):
        known = self.known_parameters(request, queryset, view)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            listed = "、".join(name[:30] for name in unknown[:5])
            message = f"不支持的查询参数：{listed}。可用参数：{'、'.join(sorted(known))}。"
            raise exceptions.ValidationError(
                {"detail": [message], **{name[:30]: ["不支持的查询参数。"] for name in unknown[:5]}}
            )
        repeated = sorted(name for name, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            listed = "、".join(repeated[:5])
            raise exceptions.ValidationError(
                {
                    "detail": [f"查询参数只能各给一次：{listed}。"],
                    **{name: ["只能给一次。"] for name in repeated[:5]},
                }
            )
        return super().filter_queryset(request, queryset, view)

    def known_parameters(self, request, queryset, view):
        known = set(FRAMEWORK_PARAMS)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        paginator = getattr(view, "paginator", None)
        for attr in ("page_query_param", "page_size_query_param"):
            if getattr(paginator, attr, None):
                known.add(getattr(paginator, attr))
        return known
