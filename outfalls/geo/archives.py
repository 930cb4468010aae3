"""Limits for zip containers before anything unpacks them: zipped GIS files and xlsx workbooks (no Django).

A zip of a few kilobytes can declare gigabytes inside (a "zip bomb"). ``check_zip`` looks only at the
central directory (the declared sizes) and refuses, with a Chinese message, an archive with too many members,
too many bytes once unpacked, or a member whose compression ratio no real file reaches. ``read_member``
copies a member in chunks and turns a failed CRC or a truncated member into the same kind of refusal, so a
damaged upload answers with a message instead of an exception.
"""

import shutil
import zipfile
import zlib

MB = 1024 * 1024
#: A member is refused when it unpacks to more than this many times its packed size (and to over 1 MB):
#: text and XML compress 5-20 times, an empty sheet of a million rows about 1,000 times.
MAX_RATIO = 200
RATIO_FLOOR_BYTES = MB


class ArchiveRefused(ValueError):
    """A zip refused before unpacking, or a member that cannot be read; the message is Chinese."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def open_zip(source, shown):
    """A zipfile.ZipFile, or ArchiveRefused naming the file."""
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise ArchiveRefused(f"{shown}：压缩包已损坏或不是 zip 格式的文件。")


def check_zip(archive, shown, *, max_members, max_total_bytes, max_ratio=MAX_RATIO):
    """Refuse an archive whose central directory promises a bomb. Returns its file members."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > max_members:
        raise ArchiveRefused(f"{shown}：压缩包中的文件过多（{len(members)} 个，上限 {max_members} 个）。")
    total = sum(info.file_size for info in members)
    if total > max_total_bytes:
        raise ArchiveRefused(
            f"{shown}：解压后共 {total / MB:,.0f} MB，超过上限 {max_total_bytes / MB:,.0f} MB。"
        )
    for info in members:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ArchiveRefused(
                f"{shown}：其中的“{member_name(info)}”压缩比异常（约 {ratio:,.0f} 倍，上限 {max_ratio} 倍），"
                "可能是恶意构造的文件，已拒绝。"
            )
    return members


def member_name(info):
    """A zip member's name decoded as its writer meant it (UTF-8 flag, else UTF-8 or GBK bytes)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _damaged(shown, info):
    return ArchiveRefused(
        f"{shown}：其中的“{member_name(info)}”已损坏（校验失败或内容不完整），请重新压缩后上传。"
    )


def read_member(archive, info, target, shown):
    """Copy one member into an open binary file; ArchiveRefused when it is damaged."""
    try:
        with archive.open(info) as source:
            shutil.copyfileobj(source, target)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, UnicodeDecodeError):
        raise _damaged(shown, info)


def iter_member(archive, info, shown, chunk=MB):
    """The member's bytes, a chunk at a time; ArchiveRefused when it is damaged."""
    try:
        with archive.open(info) as source:
            while data := source.read(chunk):
                yield data
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, UnicodeDecodeError):
        raise _damaged(shown, info)
