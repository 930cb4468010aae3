"""Form presentation shared by every app: Bootstrap classes, invalid fields marked."""

from django import forms


def style_form(form):
    """Give every widget its Bootstrap class; mark fields that failed validation."""
    # Read _errors, not errors: the errors property would validate (too early during __init__).
    errors = getattr(form, "_errors", None) or {}
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
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
        if not self.field_groups:
            return [("", list(self))]
        placed = set()
        groups = []
        for title, names in self.field_groups:
            fields = [self[name] for name in names if name in self.fields]
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
