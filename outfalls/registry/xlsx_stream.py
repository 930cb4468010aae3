"""A streaming .xlsx sheet reader: one worksheet's cells, a chunk of its XML at a time.

Why: python-calamine loads a whole sheet into memory before giving the first row (about 1.8 KB per row of
attachment 1: 530 MiB for 300,000 rows), so the import's memory grew with the file. This reader holds the
shared-strings table, the styles' date formats and one chunk of the sheet's XML (256 KiB, cut before the
last row that has begun): apart from the shared strings (as many as the file has distinct texts), its
memory is flat in the file's rows.

What it reads: the worksheets of a workbook in the workbook's order, with their visibility (xl/workbook.xml
and its relationships, through ``xlsx_guard.workbook_sheets``); every cell's value as python-calamine 0.9.1
gives it through ``CalamineSheet.iter_rows()``, except that an empty cell is None rather than "":

- shared, inline (``t="inlineStr"``, rich text runs joined, phonetic runs left out) and formula
  (``t="str"``) strings as str, with XML's predefined and numeric entities decoded, line ends normalised,
  text without ``xml:space="preserve"`` trimmed and Excel's ``_x00HH_`` escapes decoded, as calamine does;
- numbers as float; booleans as bool; error cells (#N/A, #DIV/0!, ..., also the #SPILL! and #CALC! that
  make calamine refuse the sheet) as None;
- a number whose style's number format is a date or time (built-in formats 14-22, 45-47, or a custom
  format with date or time tokens outside quotes and brackets) as ``datetime.date``, ``datetime.datetime``
  or ``datetime.time``, ``[h]:mm``-like formats as ``datetime.timedelta``, in the 1900 or 1904 date
  system, exactly as calamine converts them (a value Python's types cannot hold stays a float, where
  calamine fails); ``t="d"`` ISO 8601 dates as date, datetime or time;
- formulas by their cached value;
- the merged ranges that start in the first rows (``merge_rows``), 0-based as calamine gives them.

How: the sheet's XML is read with zipfile a chunk at a time and cut before the last row that has begun.
All rows and cells of a piece are parsed by one ``re.findall`` of a pattern for the form Excel and most
writers produce (``<row r="7" ...>``, ``<c r="B7" s="1" t="s"><v>12</v></c>``, ``<c r="B7" s="1"/>``, an
``<f>`` before the ``<v>``, openpyxl's ``<is><t>..</t></is>``); its matches are trusted only when, with the
literal counts of the other tags it allows, they account for every tag that opens in the piece. Any other
piece goes through a general tokenizer (slower, exact): attributes in any order, namespace prefixes
(``<x:c>``), rows and cells without ``r`` (a row then counts on from the previous one, a cell takes the next
column), inline strings with rich text, entities, CDATA, comments.

What it does not do: no DTD is processed (a ``<!DOCTYPE`` or ``<!ENTITY`` is refused, ``XlsxRefused``);
a row of more than MAX_UNIT_BYTES of XML is refused rather than buffered; cells are yielded in the row
their ``<row>`` element places them (calamine follows a cell's own ``r`` row, which Excel always makes the
same), rows in file order, a row number repeated in the file is yielded twice, a cell outside any
``<row>`` and a merged range that is not one are passed over. It does not evaluate formulas, read comments,
hyperlinks or formatting. XML that does not parse, a shared-string index out of range or a value calamine
refuses raises ``XlsxStreamError``: the caller reads the file with another reader (ledger_reader:
openpyxl), and ``Sheet.iter_rows()`` hands over to the sheet's ``fallback`` mid-way for the rows not yet
given.

    book = Workbook.open(path_or_binary_file)
    for name, member in book.visible_worksheets():
        sheet = book.sheet(member)
        sheet.head(30), sheet.merges
        for number, cells in sheet.iter_rows():       # (7, ["平城区", None, 113.3, datetime.date(...)])
            ...
"""

import datetime
import math
import re
import zipfile
import zlib

from . import xlsx_guard

CHUNK_BYTES = 256 * 1024
MAX_UNIT_BYTES = 4 * 1024 * 1024  # one row of the sheet, one shared string: more is a hostile file
MAX_PART_BYTES = 64 * 1024 * 1024  # workbook.xml, styles.xml: read whole
MAX_MERGES = 20_000  # merges kept from the first rows; the rest are not kept
MAX_COLUMN = 16384  # XFD
_WS = " \t\r\n"


class XlsxStreamError(Exception):
    """The file cannot be read by this reader; another reader may read it."""


class XlsxRefused(Exception):  # noqa: N818 - a refusal, not a failure to read
    """A file refused as hostile or unreasonable; the message is Chinese and meant for the user."""


# XML text ------------------------------------------------------------------------------------------------
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));|&")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_EXCEL_ESCAPE = re.compile(r"_x00([0-9A-Fa-f]{2}|\+[0-9A-Fa-f])_")


def _entity(match):
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    if decimal is None and hexadecimal is None:
        raise XlsxStreamError("an '&' that is not an entity reference")
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise XlsxStreamError(f"character reference to {code}")
    return chr(code)


def _decode(text):
    """Element text as XML gives it: line ends normalised (before entities), entities decoded."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _text(raw):
    return _decode(raw.decode("utf-8"))


def _cdata(raw):
    """A CDATA section's text: line ends normalised, nothing else."""
    return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def excel_unescape(text):
    """Excel's `_x00HH_` escapes decoded, as calamine decodes them (two hex digits, Latin-1 range)."""
    if "_x00" not in text:
        return text
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _string_text(text, preserve):
    """A <t>'s collected text: trimmed of ASCII whitespace unless xml:space="preserve", then unescaped."""
    return excel_unescape(text if preserve else text.strip(_WS))


# The general tokenizer -------------------------------------------------------------------------------------
_TOKEN = re.compile(
    rb"<(/?)([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"  # 1 end tag, 2 name
    rb"((?:\s+[A-Za-z_][\w.\-:]*\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(/?)>"  # 3 attributes, 4 empty
    rb"|([^<]+)"  # 5 text
    rb"|<!\[CDATA\[(.*?)\]\]>"  # 6 CDATA
    rb"|<!--.*?-->|<\?.*?\?>"  # comments, processing instructions
    rb"|(<)",  # 7 anything else: not XML this reader accepts
    re.S,
)
_ATTRIBUTE = re.compile(rb"([A-Za-z_][\w.\-:]*)\s*=\s*([\"'])(.*?)\2", re.S)


def _attributes(raw):
    """{name: raw value}; a prefixed name keeps its prefix (xml:space), as calamine reads r, s, t."""
    return {name: value for name, _, value in _ATTRIBUTE.findall(raw)}


def _local(name):
    return name.rpartition(b":")[2]


def _elements(tokens, data):
    """(close, local name, raw attributes, empty) of each tag in tokens; text, CDATA, comments passed over,
    markup that is not XML refused. Consumes the same iterator as its caller's helpers (no look-ahead)."""
    for match in tokens:
        close, name, attributes, empty, _, _, bad = match.groups()
        if name is not None:
            yield close, _local(name), attributes, empty
        elif bad:
            _bad_markup(data, match)


def _skip_to_end(tokens, local):
    """Consume tokens up to the end tag of `local` (the start tag was not empty)."""
    for match in tokens:
        if match.group(2) is not None and match.group(1) and _local(match.group(2)) == local:
            return
        if match.group(7):
            raise XlsxStreamError("XML that does not parse")
    raise XlsxStreamError(f"no end tag for {local!r}")


def _collect_text(tokens, local, data, *, cdata):
    """The text up to the end tag of `local`: text (normalised, entities decoded) and CDATA if `cdata`."""
    parts = []
    for match in tokens:
        close, name, _, _, text, section, bad = match.groups()
        if text is not None:
            parts.append(_text(text))
        elif section is not None:
            if cdata:
                parts.append(_cdata(section))
        elif name is not None:
            if close and _local(name) == local:
                return "".join(parts)
        elif bad:
            _bad_markup(data, match)
    raise XlsxStreamError(f"no end tag for {local!r}")


def _read_string(tokens, local, data):
    """A shared string's <si> or an inline <is>: its <t> texts joined, phonetic runs (<rPh>) left out."""
    parts = []
    phonetic = False
    for close, tag, attributes, empty in _elements(tokens, data):
        if close:
            if tag == local:
                return "".join(parts)
            if tag == b"rPh":
                phonetic = False
        elif tag == b"rPh":
            phonetic = not empty
        elif tag == b"t" and not phonetic:
            preserve = _attributes(attributes).get(b"xml:space") == b"preserve"
            text = "" if empty else _collect_text(tokens, b"t", data, cdata=True)
            parts.append(_string_text(text, preserve))
    raise XlsxStreamError(f"no end tag for {local!r}")


# Values ------------------------------------------------------------------------------------------------
OTHER, DATETIME, TIMEDELTA = 0, 1, 2
_EMPTY = object()  # no value: the cell does not count (calamine's Data::Empty)
_ERROR = object()  # an error cell: None, but it counts towards the row's width as calamine's do
_NUMBER = re.compile(
    rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)
# calamine matches the numFmtId as written: "014" is no built-in format.
_BUILTIN_FORMATS = {str(n).encode(): DATETIME for n in (*range(14, 23), 45, 47)} | {b"46": TIMEDELTA}
_EPOCH = datetime.datetime(1899, 12, 30)
_DAY_MS = 86_400_000
_CHRONO_DAYS = 95_000_000  # about chrono's range (year ±262,000) in days from 1899; beyond it calamine fails


def number_format_kind(code):
    """OTHER, DATETIME or TIMEDELTA for a custom number format code (calamine's detect_custom_number_format:
    the first section only; date and time letters outside quotes, brackets and escapes; [h], [m], [s] are
    durations)."""
    escaped = quoted = ap = hms = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ";":
            return OTHER
        elif char == "[":
            brackets = min(brackets + 1, 255)
        elif char == "]" and brackets == 1 and hms:
            return TIMEDELTA
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif char in "aA" and not ap and brackets == 0:
            ap = True
        elif char in "pm/PM" and ap and brackets == 0:
            return DATETIME
        elif char in "dmhysDMHYS" and not ap and brackets == 0:
            return DATETIME
        elif not (hms and char.lower() == previous.lower()):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return OTHER


def _round(value):
    """Rust's f64::round: half-way cases away from zero."""
    whole = math.floor(abs(value))
    if abs(value) - whole >= 0.5:
        whole += 1
    return whole if value >= 0 else -whole


def excel_datetime(value, kind, is_1904):
    """A serial number in a date or duration format as python-calamine 0.9.1 gives it: timedelta for a
    duration; time below 1.0; date for a whole number; datetime otherwise; the float itself when the result
    is outside what Python's (or chrono's) types hold."""
    if math.isnan(value):
        ms = 0
    elif math.isinf(value):
        return value
    else:
        shifted = value + 1462.0 if is_1904 and kind != TIMEDELTA else value
        if kind != TIMEDELTA and shifted < 60.0:
            shifted += 1.0  # Excel's 1900-02-29
        ms = _round(shifted * 86_400_000.0)
    if kind == TIMEDELTA:
        try:
            return datetime.timedelta(milliseconds=ms)
        except OverflowError:
            return value  # calamine hands Python a duration it cannot hold (OverflowError)
    if value < 1.0:
        if abs(ms) // _DAY_MS > _CHRONO_DAYS:
            return value
        ms %= _DAY_MS
        seconds, milli = divmod(ms, 1000)
        return datetime.time(seconds // 3600, seconds // 60 % 60, seconds % 60, milli * 1000)
    try:
        moment = _EPOCH + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        return value
    if value.is_integer():
        return moment.date()
    return moment


_ISO_DATE = r"\s*([+-]?\d+)-(\d{1,2})-(\d{1,2})"
_ISO_TIME = r"(\d{1,2}):(\d{1,2})"
_ISO_DATETIME = re.compile(_ISO_DATE + "T" + _ISO_TIME + r":(\d{1,2})(?:\.(\d+))?\s*")
_ISO_TIME_ONLY = re.compile(r"\s*" + _ISO_TIME + r"(?::(\d{1,2})(?:\.(\d+))?)?\s*")
_ISO_DATE_ONLY = re.compile(_ISO_DATE + r"\s*")


def _clock(hour, minute, second, fraction):
    second = int(second or 0)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if second == 60:  # a leap second: Python has none
        second = 59
    return datetime.time(int(hour), int(minute), second, micro)


def iso_value(text):
    """A `t="d"` cell as python-calamine gives it: datetime, time or date, else the text itself."""
    try:
        if "T" in text:
            found = _ISO_DATETIME.fullmatch(text)
            if found:
                year, month, day, hour, minute, second, fraction = found.groups()
                return datetime.datetime.combine(
                    datetime.date(int(year), int(month), int(day)), _clock(hour, minute, second, fraction)
                )
        elif ":" in text:
            found = _ISO_TIME_ONLY.fullmatch(text)
            if found:
                return _clock(*found.groups())
        else:
            found = _ISO_DATE_ONLY.fullmatch(text)
            if found:
                return datetime.date(*(int(part) for part in found.groups()))
    except ValueError:
        pass
    return text


def column_index(letters):
    """Column letters (either case, at most three) -> 0-based index; XlsxStreamError beyond XFD."""
    index = 0
    for letter in letters.upper():
        index = index * 26 + letter - 64
    if not 0 < index <= MAX_COLUMN:
        raise XlsxStreamError(f"column {letters!r} beyond XFD")
    return index - 1


_REFERENCE = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")
_ROW_NUMBER = re.compile(rb"[A-Za-z]{0,3}([0-9]{1,7})")


def _reference(raw):
    """A cell reference `B7` -> (row 0-based, column 0-based); XlsxStreamError for anything else."""
    found = _REFERENCE.fullmatch(raw)
    if not found or int(found.group(2)) == 0:
        raise XlsxStreamError(f"cell reference {raw!r}")
    return int(found.group(2)) - 1, column_index(found.group(1))


def _row_number(raw):
    found = _ROW_NUMBER.fullmatch(raw)
    if not found or int(found.group(1)) == 0:
        raise XlsxStreamError(f"row number {raw!r}")
    return int(found.group(1))


def _place(cells, column, value):
    size = len(cells)
    if column == size:
        cells.append(value)
    elif column > size:
        cells.extend([None] * (column - size))
        cells.append(value)
    else:
        cells[column] = value


# Chunks and pieces ---------------------------------------------------------------------------------------
_FAILURES = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    KeyError,
    ValueError,  # UnicodeDecodeError among them
    IndexError,
    OverflowError,
)
_DTD_MESSAGE = "文件中含有 XML 文档类型声明（DOCTYPE/ENTITY），这不是 Excel 写出的文件，已拒绝读取"


def _refuse_dtd(data):
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XlsxRefused(_DTD_MESSAGE)


def _bad_markup(data, match):
    rest = data[match.start() : match.start() + 10]
    if rest.startswith((b"<!DOCTYPE", b"<!ENTITY")):
        raise XlsxRefused(_DTD_MESSAGE)
    raise XlsxStreamError(f"XML that does not parse at {rest!r}")


def _too_long(unit):
    what = "一行" if unit == b"row" else "一个文本"
    return (
        f"工作表中有{what}的 XML 超过 {MAX_UNIT_BYTES // (1024 * 1024)} MB，文件可能损坏或被恶意构造。"
        "请只保留数据区域另存为新文件后重新上传"
    )


def _chunks(archive, member):
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def _start_pattern(container):
    return re.compile(rb"<([A-Za-z_][\w.\-]*:)?" + container + rb"\b[^>]*?(/?)>")


_STARTS = {b"sheetData": _start_pattern(b"sheetData"), b"sst": _start_pattern(b"sst")}


def _open_container(chunks, container):
    """Read up to the start tag of `container`: (its match, the bytes read), refusing a DTD before it."""
    pattern = _STARTS[container]
    head = b""
    for chunk in chunks:
        head += chunk
        found = pattern.search(head)
        if found:
            break
        if len(head) > MAX_UNIT_BYTES:
            raise XlsxStreamError(f"no <{container.decode()}> in the part's first {MAX_UNIT_BYTES} bytes")
    else:
        raise XlsxStreamError(f"no <{container.decode()}>")
    _refuse_dtd(head[: found.start()])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise XlsxStreamError("XML in UTF-16")
    return found, head


def _last_opening(data, opening):
    """Where the last tag `opening` (b"<row", b"<x:row") starts in data, or -1."""
    cut = data.rfind(opening)
    while cut >= 0:
        follows = data[cut + len(opening) : cut + len(opening) + 1]
        if follows in (b"", b" ", b">", b"/", b"\t", b"\r", b"\n"):
            return cut
        cut = data.rfind(opening, 0, cut)
    return -1


def _pieces(chunks, container, unit):
    """The content of a part's `container` element (sheetData, sst) in pieces that hold whole `unit`
    elements (row, si): each piece ends where the last unit that has begun starts. Yields (prefix, piece);
    XlsxRefused when one unit is longer than MAX_UNIT_BYTES."""
    chunks = iter(chunks)
    found, head = _open_container(chunks, container)
    if found.group(2):  # <sheetData/>
        return
    prefix = found.group(1) or b""
    end = b"</" + prefix + container + b">"
    opening = b"<" + prefix + unit
    carry = head[found.end() :]
    for chunk in _prepend(b"", chunks):
        data = carry + chunk if chunk else carry
        cut = _last_opening(data, opening)
        stop = data.find(end, max(cut, 0))  # the end comes after the last unit: no need to search all
        if stop >= 0:
            yield prefix, data[:stop]
            return
        if cut > 0:
            yield prefix, data[:cut]
            data = data[cut:]
        if len(data) > MAX_UNIT_BYTES:
            raise XlsxRefused(_too_long(unit))
        carry = data
    raise XlsxStreamError(f"no </{container.decode()}>: the part is cut short")


def _prepend(first, rest):
    yield first
    yield from rest


# Shared strings ----------------------------------------------------------------------------------------
_FAST_SI = re.compile(r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')
_FAST_SI_SPACE = re.compile(r'<si><t(?: (xml:space="preserve"))?>([^<]*)</t></si>')
_UNTRIMMED = re.compile(r"<t>(?:[ \t\r\n]|[^<]*[ \t\r\n]</t>)")  # text to trim: no xml:space="preserve"


def _shared_strings(chunks):
    """The shared-strings table: [str] in index order."""
    strings = []
    for prefix, piece in _pieces(chunks, b"sst", b"si"):
        if not prefix:
            text = piece.decode("utf-8")
            found = _FAST_SI.findall(text)
            if 4 * len(found) == text.count("<"):  # <si>, <t>, </t>, </si> each: nothing else in the piece
                if "&" in text or "\r" in text or "_x00" in text or _UNTRIMMED.search(text):
                    found = _FAST_SI_SPACE.findall(text)
                    strings.extend(_string_text(_decode(t), preserve) for preserve, t in found)
                else:
                    strings.extend(found)
                continue
        tokens = _TOKEN.finditer(piece)
        for close, tag, _, empty in _elements(tokens, piece):
            if not close and tag == b"si":
                strings.append("" if empty else _read_string(tokens, b"si", piece))
    return strings


# Styles and the workbook -------------------------------------------------------------------------------
def _style_kinds(data):
    """[OTHER | DATETIME | TIMEDELTA] per cell style (cellXfs), as calamine reads styles.xml."""
    _refuse_dtd(data)
    formats = {}  # raw numFmtId -> format code
    kinds = []
    section = None
    for close, tag, attributes, empty in _elements(_TOKEN.finditer(data), data):
        if tag in (b"numFmts", b"cellXfs"):
            section = None if close or empty else tag
        elif close:
            continue
        elif section == b"numFmts" and tag == b"numFmt":
            found = _attributes(attributes)
            if b"numFmtId" in found and b"formatCode" in found:
                formats[found[b"numFmtId"]] = _decode(found[b"formatCode"].decode("utf-8"))
        elif section == b"cellXfs" and tag == b"xf":
            number_format = _attributes(attributes).get(b"numFmtId")
            if number_format is None:
                kinds.append(OTHER)
            elif number_format in formats:
                kinds.append(number_format_kind(formats[number_format]))
            else:
                kinds.append(_BUILTIN_FORMATS.get(number_format, OTHER))
    return kinds


_DATE_1904 = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?workbookPr\b[^>]*?\bdate1904\s*=\s*[\"'](1|true)[\"']")
# A range that is not one (calamine refuses the sheet for it) is passed over.
_MERGE = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']"
    rb"([A-Za-z]{1,3})([0-9]{1,7})(?::([A-Za-z]{1,3})([0-9]{1,7}))?[\"']"
)


class Workbook:
    """An .xlsx's sheets, its shared strings (read when first needed) and its date styles."""

    def __init__(self, source):
        self._source = source  # a path or a seekable binary file
        with self.zip() as archive:
            self._members = {name.replace("\\", "/").lower(): name for name in archive.namelist()}
            self.sheets = xlsx_guard.workbook_sheets(archive)  # [(name, member, state, kind)]
            if not self.sheets:
                raise XlsxStreamError("the workbook lists no sheets")
            workbook = self._read(archive, "xl/workbook.xml")
            _refuse_dtd(workbook)
            self.is_1904 = _DATE_1904.search(workbook) is not None
            styles = self._read(archive, "xl/styles.xml")
            self.kinds = _style_kinds(styles) if styles else []
        self._strings = None

    @classmethod
    def open(cls, source):
        """Workbook(source), every failure to read being XlsxStreamError (XlsxRefused for a hostile file)."""
        try:
            return cls(source)
        except (XlsxRefused, XlsxStreamError):
            raise
        except _FAILURES as error:
            raise XlsxStreamError(f"{type(error).__name__}: {error}") from error

    def zip(self):
        if hasattr(self._source, "seek"):
            self._source.seek(0)
        return zipfile.ZipFile(self._source)

    def member(self, path):
        """The zip member for a path inside the package, looked up as calamine does (case, backslashes)."""
        return self._members.get(path.replace("\\", "/").lower())

    def _read(self, archive, path):
        member = self.member(path)
        if member is None:
            return b""
        if archive.getinfo(member).file_size > MAX_PART_BYTES:
            raise XlsxStreamError(f"{path} larger than {MAX_PART_BYTES} bytes")
        return archive.read(member)

    @property
    def sheet_count(self):
        return len(self.sheets)

    def visible_worksheets(self):
        """[(name, member)] of the worksheets not hidden, in the workbook's order (chartsheets left out)."""
        return [
            (name, self.member(path) or path)
            for name, path, state, kind in self.sheets
            if kind == "worksheet" and state not in ("hidden", "veryHidden")
        ]

    @property
    def strings(self):
        if self._strings is None:
            member = self.member("xl/sharedStrings.xml")
            if member is None:
                self._strings = []
            else:
                with self.zip() as archive:
                    self._strings = _shared_strings(_chunks(archive, member))
        return self._strings

    def sheet(self, member, *, merge_rows=30, fallback=None):
        return Sheet(self, member, merge_rows=merge_rows, fallback=fallback)


# The sheet -----------------------------------------------------------------------------------------------
# Cells first (most matches are cells), <v> before an <f>, values in the characters of numbers, shared-string
# indexes, booleans, errors and ISO dates (none of the spaces or underscores Python's float() would accept);
# inline strings as openpyxl writes them. Groups: column, style, type, value, inline <t> tag, its text, row.
_FAST = re.compile(
    rb'<c r="([A-Z]{1,3})\d+"(?: s="(0|[1-9]\d*)")?(?: t="([A-Za-z]+)")?'
    rb"(?:/>|>(?:<v>|<f[^>]*(?:/>|>[^<]*</f>)<v>)([-+.0-9A-Za-z#/!?:]*)</v></c>"
    rb'|><is>(<t(?: xml:space="preserve")?>)([^<]*)</t></is></c>)'
    rb'|<row r="(\d+)"[^>]*>'
)


class _SheetParser:
    """Rows of a sheet's pieces; keeps the row counter calamine keeps across them (rows without `r`)."""

    def __init__(self, book):
        self.strings = book.strings
        self.kinds = book.kinds
        self.dates = {str(i).encode(): kind for i, kind in enumerate(self.kinds) if kind}
        self.is_1904 = book.is_1904
        self.row_index = 0  # calamine's: 0-based, the row a <row> without r takes
        self.columns = {}  # letters -> 0-based column
        self.dates_seen = {}  # (style, serial) -> date: the same dates come again and again

    def parse(self, prefix, piece):
        rows = None if prefix else self._fast(piece)
        return self._general(piece) if rows is None else rows

    def _fast(self, piece):
        """The piece's rows by the common form, or None when the piece holds anything else.

        The matches are trusted when every tag that opens is one of theirs (an inline string's <is> and <t>
        among them), a <v> or an <f>: closing tags other than theirs are passed over by calamine too."""
        found = _FAST.findall(piece)
        if found and not found[0][6]:
            return None  # a cell before the piece's first row
        rows = []
        cells = None
        number = width = inline = 0
        strings, dates, columns, cache = self.strings, self.dates, self.columns, self.dates_seen
        try:
            for letters, style, kind, v, tag, text, row in found:
                if v:
                    column = columns.get(letters)
                    if column is None:
                        column = columns[letters] = column_index(letters)
                    if kind == b"s":
                        if not v.isdigit():
                            return None
                        value = strings[int(v)]
                    elif not kind or kind == b"n":
                        if style and style in dates:
                            value = cache.get((style, v))
                            if value is None:
                                if len(cache) > 100_000:
                                    cache.clear()
                                value = cache[style, v] = excel_datetime(float(v), dates[style], self.is_1904)
                        else:
                            value = float(v)
                    else:
                        value = (
                            self._scalar(kind, style, v) if kind in (b"b", b"e") else self._textual(kind, v)
                        )
                        if value is _EMPTY:
                            continue
                        if value is _ERROR:
                            value = None
                elif row:
                    if cells is not None:
                        rows.append((number, cells))
                        if len(cells) > width:
                            width = len(cells)
                    number = int(row)
                    if not number:
                        return None
                    cells = [None] * width  # as wide as the rows before: one store per cell
                    continue
                elif tag:
                    inline += 1
                    column = columns.get(letters)
                    if column is None:
                        column = columns[letters] = column_index(letters)
                    value = text.decode("utf-8")
                    if "&" in value or "\r" in value:
                        value = _decode(value)
                    value = _string_text(value, len(tag) > 3)
                else:
                    if kind in (b"str", b"d", b"e"):
                        return None  # <v></v> is a value for these, <c/> is not: the general path tells them apart
                    continue
                try:
                    cells[column] = value
                except IndexError:
                    cells.extend([None] * (column + 1 - len(cells)))
                    cells[column] = value
        except (ValueError, IndexError, XlsxStreamError):
            return None  # the general path gives the right value or the right error
        opened = piece.count(b"<") - piece.count(b"</")
        if opened != len(found) + piece.count(b"<v>") + piece.count(b"<f") + 2 * inline:
            return None
        if cells is not None:
            rows.append((number, cells))
            self.row_index = number
        return rows

    def _general(self, piece):
        rows = []
        tokens = _TOKEN.finditer(piece)
        cells = None
        number = column = 0
        for close, tag, attributes, empty in _elements(tokens, piece):
            if tag == b"row":
                if close:
                    if cells is not None:
                        rows.append((number, cells))
                        cells = None
                    self.row_index += 1
                    continue
                r = _attributes(attributes).get(b"r")
                if r is not None:
                    self.row_index = _row_number(r) - 1
                number = self.row_index + 1
                cells, column = [], 0
                if empty:
                    rows.append((number, cells))
                    cells = None
                    self.row_index += 1
            elif tag == b"c" and not close:
                found = _attributes(attributes)
                r = found.get(b"r")
                if r is not None:
                    column = _reference(r)[1]
                elif column >= MAX_COLUMN:
                    raise XlsxStreamError("a cell beyond XFD")
                value = _EMPTY if empty else self._cell(tokens, piece, found.get(b"s"), found.get(b"t"))
                if cells is not None and value is not _EMPTY:
                    _place(cells, column, None if value is _ERROR else value)
                column += 1
            # Anything else (a <v> or <f> outside a cell, an extension) is passed over, as calamine does.
        if cells is not None:
            raise XlsxStreamError("a row not closed")
        return rows

    def _cell(self, tokens, piece, style, kind):
        value = _EMPTY
        for close, tag, _, empty in _elements(tokens, piece):
            if close:
                if tag == b"c":
                    return value
            elif tag == b"v":
                value = self._v(tokens, piece, style, kind, empty)
            elif tag == b"is":
                value = "" if empty else _read_string(tokens, b"is", piece)
            elif tag == b"f":
                if not empty:
                    _skip_to_end(tokens, b"f")
                value = _EMPTY
            else:
                raise XlsxStreamError(f"<{tag.decode('ascii', 'replace')}> in a cell")
        raise XlsxStreamError("a cell not closed")

    def _v(self, tokens, piece, style, kind, empty):
        if kind in (b"inlineStr", b"is"):
            if not empty:
                _skip_to_end(tokens, b"v")
            return _EMPTY
        if kind in (None, b"n", b"s", b"b", b"e"):
            # calamine reads these from the first text only, raw (no entity, no CDATA).
            if empty:
                return _EMPTY
            first = next(tokens, None)
            if first is None:
                raise XlsxStreamError("a value not closed")
            close, name, _, _, text, _, bad = first.groups()
            if name is not None and close and _local(name) == b"v":
                return _EMPTY
            if bad:
                _bad_markup(piece, first)
            raw = text.split(b"&", 1)[0] if text is not None else b""
            _skip_to_end(tokens, b"v")
            return self._scalar(kind, style, raw)
        text = "" if empty else _collect_text(tokens, b"v", piece, cdata=False)
        return self._textual(kind, text)

    def _scalar(self, kind, style, raw):
        """A <v> of type n (or none), s, b or e from its raw text."""
        if not raw:
            return _EMPTY
        if kind == b"s":
            index = int(raw) if raw.isdigit() and len(raw) < 20 else 0  # calamine: 0 when not a number
            if index >= len(self.strings):
                raise XlsxStreamError(f"shared string {index} of {len(self.strings)}")
            return self.strings[index]
        if kind == b"b":
            word = raw.strip().lower()
            if word in (b"0", b"false"):
                return False
            if word in (b"1", b"true"):
                return True
            raise XlsxStreamError(f"boolean {raw!r}")
        if kind == b"e":
            return _ERROR
        if _NUMBER.fullmatch(raw):
            value = float(raw)
            date = self._kind(style)
            return excel_datetime(value, date, self.is_1904) if date else value
        if kind is None:
            return raw.decode("utf-8")
        raise XlsxStreamError(f"number {raw!r}")

    def _kind(self, style):
        if style is None:
            return OTHER
        index = int(style) if style.isdigit() and len(style) < 20 else 0
        return self.kinds[index] if index < len(self.kinds) else OTHER

    def _textual(self, kind, text):
        """A <v> of type str or d from its decoded text."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if kind == b"str":
            return excel_unescape(text)
        if kind == b"d":
            return iso_value(text)
        raise XlsxStreamError(f"cell type {kind!r}")


class Sheet:
    """One worksheet as a ledger_reader source: rows streamed from the XML, cells at absolute columns."""

    reader = "xlsx-stream"
    col_offset = 0

    def __init__(self, book, member, *, merge_rows=30, fallback=None):
        self.book = book
        self.member = member
        self.merge_rows = merge_rows
        self.fallback = fallback  # () -> iterable of (row number, cells) read by another reader
        self._merges = None

    def _rows(self):
        """(row number, cells) for every row from 1 to the last in the XML: rows the XML leaves out are
        yielded empty, so that numbers and positions are those calamine gives."""
        try:
            parser = _SheetParser(self.book)
            expected = 1
            with self.book.zip() as archive:
                for prefix, piece in _pieces(_chunks(archive, self.member), b"sheetData", b"row"):
                    for number, cells in parser.parse(prefix, piece):
                        while expected < number:
                            yield expected, []
                            expected += 1
                        yield number, cells
                        if number >= expected:
                            expected = number + 1
        except (XlsxRefused, XlsxStreamError):
            raise
        except _FAILURES as error:
            raise XlsxStreamError(f"{type(error).__name__}: {error}") from error

    def iter_rows(self):
        """Every row; when the XML cannot be read past some row, the rows after it from `fallback`."""
        last = 0
        try:
            for number, cells in self._rows():
                yield number, cells
                last = max(last, number)
        except XlsxStreamError:
            if self.fallback is None:
                raise
            for number, cells in self.fallback():
                if number > last:
                    yield number, list(cells)

    def head(self, count):
        """The rows up to row `count` (no fallback: a failure here is the caller's to handle)."""
        head = []
        rows = self._rows()
        try:
            for number, cells in rows:
                head.append((number, cells))
                if number >= count:
                    break
        finally:
            rows.close()
        return head

    def sheet_width(self):
        """Columns up to the last one holding a value anywhere in the sheet (calamine's rows' width)."""
        return max((len(cells) for _, cells in self._rows()), default=0)

    @property
    def merges(self):
        """[((r0, c0), (r1, c1))] 0-based: the merged ranges that start in the first `merge_rows` rows."""
        if self._merges is None:
            self._merges = self._survey()
        return self._merges

    def _survey(self):
        """One pass over the sheet's XML that only searches: the merges starting in the first rows; a row too
        long and a DTD, refused now rather than when the rows are read. Calamine gives every merge, but only
        the header's matter to the reader, and a sheet may hold a million."""
        merges = []
        try:
            with self.book.zip() as archive:
                chunks = _chunks(archive, self.member)
                found, data = _open_container(chunks, b"sheetData")
                prefix = found.group(1) or b""
                opening, end = b"<" + prefix + b"row", b"</" + prefix + b"sheetData>"
                offset, row_start = 0, found.start()
                in_data = not found.group(2)
                for chunk in _prepend(b"", chunks):
                    data += chunk
                    split = data.rfind(b"<")  # every tag before the last "<" is whole
                    part, data = (data, b"") if split < 0 else (data[:split], data[split:])
                    if len(data) > MAX_UNIT_BYTES:
                        raise XlsxRefused(_too_long(b"row"))
                    if b"!" in part:  # (one byte is found fastest) a DTD where none may be?
                        _refuse_dtd(part)
                    rest = part
                    if in_data:
                        last = _last_opening(part, opening)
                        stop = part.find(end, max(last, 0))
                        first = part.find(opening, 0, stop if stop >= 0 else len(part))
                        if first >= 0:
                            if offset + first - row_start > MAX_UNIT_BYTES:
                                raise XlsxRefused(_too_long(b"row"))
                            row_start = offset + last
                        reach = offset + (stop if stop >= 0 else len(part))
                        if reach - row_start > MAX_UNIT_BYTES:
                            raise XlsxRefused(_too_long(b"row"))
                        in_data = stop < 0
                        rest = b"" if in_data else part[stop:]
                    if rest and b"mergeCell" in rest:
                        limit = self.merge_rows
                        for found in _MERGE.findall(rest):
                            if int(found[1]) <= limit and len(merges) < MAX_MERGES:
                                self._keep_merge(merges, found)
                    offset += len(part)
        except (XlsxRefused, XlsxStreamError):
            raise
        except _FAILURES as error:
            raise XlsxStreamError(f"{type(error).__name__}: {error}") from error
        return merges

    @staticmethod
    def _keep_merge(merges, found):
        first_column, first_row, last_column, last_row = found
        try:
            start = (int(first_row) - 1, column_index(first_column))
            end = (int(last_row) - 1, column_index(last_column)) if last_row else start
        except XlsxStreamError:
            return  # beyond XFD: no header reaches it
        if start[0] >= 0:
            merges.append((start, end))
