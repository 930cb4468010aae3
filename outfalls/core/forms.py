"""Form presentation shared by every app: Bootstrap classes, invalid fields marked."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def style_form(form):
    """Give every widget its Bootstrap class; mark fields that failed validation."""
    # Read _errors, not errors: the errors property would validate (too early during __init__).
    errors = getattr(form, "_errors", None) or {}
    for name, field in form.fields.items():
        widget = field.widget
        # RadioSelect covers CheckboxSelectMultiple too: each choice is a box with its label.
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        if name in errors:
            css += " is-invalid"
        widget.attrs["class"] = css
    return form


class BootstrapMixin:
    """Bootstrap styling, and optional field groups: field_groups = [(title, [field names]), ...]."""

    field_groups = None

    def grouped_fields(self):
        """Visible fields by group (hidden ones are rendered apart: form.hidden_fields)."""
        if not self.field_groups:
            return [("", self.visible_fields())]
        placed = {bound.name for bound in self.hidden_fields()}
        groups = []
        for title, names in self.field_groups:
            fields = [self[name] for name in names if name in self.fields and name not in placed]
            placed.update(names)
            if fields:
                groups.append((title, fields))
        rest = [self[name] for name in self.fields if name not in placed]
        if rest:
            groups.append(("其他", rest))
        return groups

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)

    def full_clean(self):
        super().full_clean()
        style_form(self)


class FastSelect(forms.Select):
    """A <select> rendered in Python. Django renders one template per <option>, about 1 ms per 100 options,
    which dominated the ledger's filter form."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v is not None}
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        options = []
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):  # an optgroup
                inner = "".join(self._option(v, label, selected) for v, label in option_label)
                options.append(
                    format_html('<optgroup label="{}">{}</optgroup>', option_value, mark_safe(inner))
                )
            else:
                options.append(self._option(option_value, option_label, selected))
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe("".join(options)))

    @staticmethod
    def _option(value, label, selected):
        value = "" if value is None else str(value)
        return format_html(
            '<option value="{}"{}>{}</option>',
            value,
            mark_safe(" selected") if value in selected else "",
            label,
        )


def fast_selects(form):
    """Swap plain Select widgets for FastSelect (same attributes and choices)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            widget = FastSelect(attrs=field.widget.attrs, choices=field.widget.choices)
            widget.is_required = field.widget.is_required
            field.widget = widget
    return form


def add_service_errors(form, error):
    """A service's ValidationError shown on the form: on each field it names, or above the form. A stale
    save (core.locking) goes above the form, and the form takes the current version for the next save."""
    from .locking import is_stale

    if not hasattr(error, "error_dict") and is_stale(error):
        form.add_error(None, error.messages)
        if hasattr(form, "refresh_version"):
            form.refresh_version()
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def error_text(error):
    """A ValidationError as one line, for a flash message after a small POST form."""
    if hasattr(error, "error_dict"):
        return "；".join(m for messages in error.message_dict.values() for m in messages)
    return "；".join(error.messages)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (possibly empty). Not required unless told."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class PasswordForm(BootstrapMixin, PasswordChangeForm):
    """Change one's own password (the 账户 page); the settings' password validators apply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The 账户 page is not only this form: no jump to it (and no phone keyboard) on opening the page.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)


class TokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label="令牌名称", max_length=64, help_text="用于辨认，如“QGIS 办公室电脑”", required=True
    )
