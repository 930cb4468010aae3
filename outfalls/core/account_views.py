"""The 账户 page (name, roles, password, API tokens, recent logins) and the city admin's login audit."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .filters import LoginEventFilter
from .forms import PasswordForm, TokenForm, error_text
from .models import ApiToken, LoginEvent
from .scopes import scope_of
from .security import current_lockouts
from .services import change_password, issue_token, revoke_token, unlock_login
from .views import ScopedListView

RECENT_LOGINS = 20


def _grants(user):
    """The user's roles and what each covers, in words."""
    rows = []
    memberships = user.memberships.select_related("jurisdiction", "department", "unit").prefetch_related(
        "water_bodies"
    )
    for m in memberships:
        covers = [str(x) for x in (m.jurisdiction, m.department, m.unit) if x is not None]
        covers += [wb.name for wb in m.water_bodies.all()]
        rows.append({"role": m.get_role_display(), "covers": "、".join(covers) or "全市"})
    if user.is_superuser and not rows:
        rows.append({"role": "市级管理员", "covers": "全市"})
    return rows


def _account_page(request, *, password_form=None, token_form=None, new_key=None, status=200):
    user = request.user
    context = {
        "grants": _grants(user),
        "password_form": password_form or PasswordForm(user),
        "token_form": token_form or TokenForm(),
        "tokens": ApiToken.objects.visible_to(user).active(),
        "new_key": new_key,
        "logins": LoginEvent.objects.visible_to(user).filter(username=user.get_username())[:RECENT_LOGINS],
        "can_audit": scope_of(user).can_audit_logins,
        # After a POST (a refused password, a new token shown once) a reload shows this page afresh.
        "reload_url": reverse("accounts:home"),
    }
    return render(request, "core/account.html", context, status=status)


@login_required
def account(request):
    return _account_page(request)


@login_required
@require_POST
def password_change(request):
    form = PasswordForm(request.user, request.POST)
    if not form.is_valid():
        return _account_page(request, password_form=form, status=400)
    revoked = change_password(request.user, form.cleaned_data["new_password1"])
    update_session_auth_hash(request, request.user)
    note = f"，您的 {revoked} 个接口令牌已随之撤销，请重新获取" if revoked else ""
    messages.success(request, f"密码已修改{note}。")
    return redirect("accounts:home")


@login_required
@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    token, key = issue_token(request.user, name=form.cleaned_data["name"])
    # The key is shown on this answer only (never stored in a message cookie or the session).
    return _account_page(request, new_key={"token": token, "key": key})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    revoke_token(token, by=request.user)
    messages.success(request, f"令牌“{token}”已撤销。")
    return redirect("accounts:home")


class CityAdminOnly:
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scope_of(request.user).can_audit_logins:
            raise PermissionDenied("只有市级管理员可以查看登录审计。")
        return super().dispatch(request, *args, **kwargs)


class LoginAuditView(CityAdminOnly, ScopedListView):
    """Every login and failed login (newest first), and who is locked out now, with an unlock button."""

    model = LoginEvent
    filterset_class = LoginEventFilter
    template_name = "core/login_audit.html"

    def base_queryset(self):
        return LoginEvent.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockouts"] = current_lockouts()
        return context


@login_required
@require_POST
def unlock(request):
    kind, value = request.POST.get("kind"), (request.POST.get("value") or "").strip()[:255]
    if kind not in ("username", "ip_address"):
        messages.error(request, "解除锁定失败：请指定用户名或来源地址。")
        return redirect("accounts:audit")
    try:
        unlock_login(by=request.user, **{kind: value})
    except ValidationError as error:
        messages.error(request, f"解除锁定失败：{error_text(error)}")
        return redirect("accounts:audit")
    label = "用户名" if kind == "username" else "来源地址"
    messages.success(request, f"已解除{label}“{value}”的登录锁定。")
    return redirect("accounts:audit")
