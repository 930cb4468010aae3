"""Form presentation shared by every app: Bootstrap classes, invalid fields marked."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.forms.utils import flatatt
from django.utils.html import format_html, json_script
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


class NarrowedSelect(FastSelect):
    """A pick-list that narrows as another field of its form is chosen: county → town → village, level-1 →
    level-2 → level-3 type. static/js/narrow.js keeps the options whose parent is the value chosen there.

    by: the parent fields' names, nearest first (a village narrows by its town, or by its county while no
    town is chosen). parents: {option value: {parent field name: parent value}}, or a function returning it
    when the page renders (read only then), sent beside the <select> as a json_script block (id: the
    select's id + "-narrow"). Options not in `parents` (全部, 未填写) always stay.
    """

    def __init__(self, by, parents=None, attrs=None, choices=()):
        super().__init__(attrs, choices)
        self.by = tuple(by)
        self.parents = parents or {}

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "data-narrow-by": " ".join(self.by)}
        element_id = attrs.get("id") or self.attrs.get("id") or f"id_{name}"
        attrs["id"] = element_id
        given = self.parents() if callable(self.parents) else self.parents
        parents = {str(key): {k: str(v) for k, v in up.items()} for key, up in given.items()}
        return super().render(name, value, attrs, renderer) + json_script(parents, f"{element_id}-narrow")


def narrow(field, by, parents):
    """Make a form field's <select> a NarrowedSelect (its attributes and choices kept)."""
    widget = NarrowedSelect(by, parents, attrs=field.widget.attrs, choices=field.widget.choices)
    widget.is_required = field.widget.is_required
    field.widget = widget
    return field


def preselect_only_choice(form, name):
    """A new form's pick-list with one real choice (a one-county user's county) starts on it."""
    field = form.fields.get(name)
    instance = getattr(form, "instance", None)
    if field is None or form.is_bound or form.initial.get(name) or getattr(instance, "pk", None):
        return
    values = [value for value, _label in field.choices if value not in ("", None)]
    if len(values) == 1:
        form.initial[name] = getattr(values[0], "value", values[0])


def fast_selects(form):
    """Swap plain Select widgets for FastSelect (same attributes and choices)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            widget = FastSelect(attrs=field.widget.attrs, choices=field.widget.choices)
            widget.is_required = field.widget.is_required
            field.widget = widget
    return form


def add_service_errors(form, error, fields=None):
    """A service's ValidationError shown on the form: on each field it names, or above the form. A stale
    save (core.locking) goes above the form, and the form takes the current version for the next save.

    fields: {the service's field name: the form's}, where the form names a field otherwise (the tracing
    page's 新建单位统一社会信用代码 is the unit's credit_code), so that the message sits on the field."""
    from .locking import is_stale

    if not hasattr(error, "error_dict") and is_stale(error):
        form.add_error(None, error.messages)
        if hasattr(form, "refresh_version"):
            form.refresh_version()
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            field = (fields or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
    style_form(form)  # the fields named are marked as the form's own errors are


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
