"""The Content-Disposition of a download: an ASCII ``filename`` beside the UTF-8 ``filename*``.

Django's ``content_disposition_header`` gives a Chinese name only as ``filename*`` (RFC 6266/5987), which
older clients and some proxies (and the GDAL, curl and wget command lines: ``-J``/``--content-disposition``)
ignore, saving the file under a name taken from the URL. Every download names itself in both forms.
"""

import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_filename(filename, fallback="download"):
    """An ASCII stand-in for filename: its ASCII letters, digits, dots, hyphens and underscores (others become
    ``-``), with ``fallback`` in front when the name has no ASCII word left (``入河排污口-20260101.gpkg`` gives
    ``download-20260101.gpkg``)."""
    text = unicodedata.normalize("NFKD", filename)
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    stem = _UNSAFE.sub("-", stem).strip("-._")
    suffix = _UNSAFE.sub("", suffix)
    if not re.search(r"[A-Za-z]", stem):
        stem = f"{fallback}-{stem}" if stem else fallback
    return f"{stem}.{suffix}" if suffix else stem


def attachment(filename, ascii_name=None):
    """``attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`` for filename; ascii_name (else
    ascii_filename(filename)) is the plain name for clients that do not read ``filename*``."""
    plain = ascii_filename(ascii_name or filename)
    plain = plain.replace("\\", "").replace('"', "")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
