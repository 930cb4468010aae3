import math

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status, throttling, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .filters import JurisdictionFilter
from .models import Jurisdiction
from .rest import ErrorSerializer
from .security import client_ip
from .services import issue_token


class JurisdictionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    county = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Jurisdiction
        fields = ["id", "code", "name", "level", "level_label", "parent", "county", "boundary_approximate"]


class JurisdictionDetailSerializer(JurisdictionSerializer):
    class Meta(JurisdictionSerializer.Meta):
        fields = [*JurisdictionSerializer.Meta.fields, "boundary", "boundary_source"]


def request_user(serializer):
    """The user of the request a serializer serves (None outside a request)."""
    return getattr(serializer.context.get("request"), "user", None)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation by id among the rows the caller sees (others are "not found", as if missing)."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(request_user(self))


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only API list that starts from the model's visible_to(user)."""

    def base_queryset(self):
        return self.queryset.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)


class JurisdictionViewSet(ScopedReadOnlyViewSet):
    queryset = Jurisdiction.objects.all()
    filterset_class = JurisdictionFilter
    lookup_field = "code"

    def base_queryset(self):
        return Jurisdiction.objects.select_related("parent", "county").defer("boundary")

    def get_serializer_class(self):
        return JurisdictionDetailSerializer if self.action == "retrieve" else JurisdictionSerializer


# The token endpoint --------------------------------------------------------------------------------------------
class TokenEndpointThrottle(throttling.SimpleRateThrottle):
    """API_TOKEN_THROTTLE_RATE requests per client address (the same address the login lockout counts)."""

    scope = "auth_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名", max_length=150)
    password = serializers.CharField(label="密码", max_length=128, trim_whitespace=False)
    name = serializers.CharField(label="令牌名称", max_length=64, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="令牌；以 Authorization: Token <令牌> 发送")
    name = serializers.CharField()
    expires = serializers.DateTimeField(help_text="到期时间")


# The API's one error shape ({"detail": ...}; core/rest.py), so the token endpoint's errors are the Error schema.
DETAIL = ErrorSerializer


class ObtainTokenView(APIView):
    """POST username and password: a new token for this client, valid API_TOKEN_LIFETIME_DAYS days.

    Each call issues a new token (the earlier ones stay valid until they expire or are revoked on the 账户
    page). Wrong credentials: 400; locked out after repeated failures: 429; too many requests: 429.
    """

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (TokenEndpointThrottle,)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(DETAIL, description="用户名或密码不正确，或缺少字段"),
            429: OpenApiResponse(DETAIL, description="登录失败次数过多已锁定，或请求过于频繁"),
        },
        auth=[],
    )
    def post(self, request):
        given = TokenRequestSerializer(data=request.data)
        if not given.is_valid():
            # One documented shape for every 400: {"detail": "用户名：该字段是必填项。"}.
            problems = [
                f"{given.fields[name].label}：{message}" if name in given.fields else str(message)
                for name, messages in given.errors.items()
                for message in messages
            ]
            return Response({"detail": "；".join(problems)}, status=status.HTTP_400_BAD_REQUEST)
        # The Django request, so that django-axes counts the failure and flags a lockout on it (its middleware
        # then answers 429 with the Chinese message, outfalls.core.security.lockout_response).
        user = authenticate(
            request._request,
            username=given.validated_data["username"],
            password=given.validated_data["password"],
        )
        if user is None:
            return Response({"detail": "用户名或密码不正确。"}, status=status.HTTP_400_BAD_REQUEST)
        token, key = issue_token(user, name=given.validated_data.get("name") or "接口登录")
        # The same signal as a page login: last_login and the login audit (core.LoginEvent).
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(
            TokenResponseSerializer({"token": key, "name": token.name, "expires": token.expires_at}).data
        )

    def throttled(self, request, wait):
        seconds = max(math.ceil(wait), 1) if wait is not None else 60
        error = exceptions.Throttled(detail=f"请求过于频繁，请 {seconds} 秒后再试。")
        error.wait = seconds  # the Retry-After header, without DRF's English "Expected available in ..."
        raise error
