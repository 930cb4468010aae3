"""国家统一编码回写 page: upload a file of (local code, national code) pairs; check it (试算) or write it. Thin:
the rules are in national_codes.py."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from outfalls.core.forms import BootstrapMixin
from outfalls.core.scopes import scope_of

from . import national_codes
from .ledger_views import MAX_UPLOAD_BYTES


class WriteBackForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="编码对照文件", help_text="Excel（.xlsx）或 CSV，须有“入河排污口编码”和“国家统一编码”两列"
    )
    dry_run = forms.BooleanField(label="只检查，不写入", required=False, initial=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。")
        return upload


@login_required
def write_back(request):
    if not scope_of(request.user).can_write_national_codes:
        raise PermissionDenied("国家统一编码由市生态环境局回写。")
    result, refused, status = None, [], 200
    if request.method == "POST":
        form = WriteBackForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            dry_run = form.cleaned_data["dry_run"]
            try:
                result = national_codes.write_back(
                    upload, filename=upload.name, user=request.user, dry_run=dry_run
                )
            except national_codes.WriteBackError as error:
                refused, status = error.messages, 400
            else:
                if dry_run:
                    messages.info(request, f"检查通过：将更新 {len(result.changed)} 个排口，未写入。")
                else:
                    messages.success(request, f"已回写 {len(result.changed)} 个排口的国家统一编码。")
        else:
            status = 400
    else:
        form = WriteBackForm()
    return render(
        request,
        "registry/national_codes.html",
        {"form": form, "result": result, "refused": refused},
        status=status,
    )
