"""The OpenAPI schema class of the REST API (settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"])."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

from .rest import ErrorSerializer

ERROR_RESPONSES = {
    "400": "请求有误：参数或字段无效、未知的查询参数（见 detail 与 errors）",
    "401": "未登录或令牌无效",
    "403": "无权进行此操作（如只读角色提交操作）",
    "404": "对象不存在或不在您的管辖范围内；列表的页码超出范围",
}


THROTTLED = ("429", "请求过于频繁，请稍后再试")
# An operation that reads a request body refuses a body of a media type no parser reads (or a body sent with
# no Content-Type at all): DRF answers 415.
UNSUPPORTED_MEDIA_TYPE = (
    "415",
    "请求体的媒体类型不受支持或未注明（请用 application/json、multipart/form-data 或 "
    "application/x-www-form-urlencoded）",
)
BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error responses every operation can give (ErrorSerializer), 415 where
    it takes a request body, and 429 where the view is throttled."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = list(ERROR_RESPONSES.items())
        if self.method in BODY_METHODS:
            errors.append(UNSUPPORTED_MEDIA_TYPE)
        if self.view.get_throttles():
            errors.append(THROTTLED)
        for code, description in errors:
            if code not in responses:
                response = OpenApiResponse(ErrorSerializer, description=description)
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


def document_query_parameters(result, generator, request, public):
    """drf-spectacular postprocessing hook: say what the API accepts in query strings (core/rest.py).

    - Every query parameter may be empty, meaning "not given" (HTML forms send empty filters).
    - ``ordering`` and other list parameters are comma-separated in one parameter (django-filter's CSV
      widget), not repeated: ``explode: false``.
    - A choice filter whose choices depend on the user (county, town: the places in their scope) has no fixed
      enumeration; drf-spectacular would list only the "null" choice.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                parameter["allowEmptyValue"] = True
                schema = parameter.get("schema", {})
                if schema.get("type") == "array":
                    parameter["style"], parameter["explode"] = "form", False
                if schema.get("enum") == ["null"]:
                    schema.pop("enum")
                    parameter["description"] = (
                        parameter.get("description", "") + "（取值为您管辖范围内的代码，或 null 表示未填写）"
                    )
    return result
