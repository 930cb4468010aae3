"""HJ 212-2017 (污染物在线监控（监测）系统数据传输标准) packets: framing, the CRC16 check, the data segment and the
answer. Pure functions, no Django.

A packet on the wire::

    ##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n
    ^^ header  ^^^^ data segment length (4 decimal digits, bytes)          ^^^^ CRC16 of the data segment (4 hex digits)

The data segment is ``key=value`` fields separated by ``;``; ``CP=&&...&&`` holds the command parameters: for data
uploads ``DataTime=YYYYMMDDhhmmss`` and, per pollutant code, fields such as ``w01018-Avg=12.3,w01018-Flag=N``
(groups separated by ``;``, fields within a group by ``,``).

``Flag`` is V5..V0 D A: bit 0 (A) asks for an answer, bit 1 (D) says the packet is one of several (PNUM/PNO);
the version bits (000001) make 4 for HJ 212-2017, 5 when an answer is asked. Data uploads are answered with
CN=9014 (数据应答), ST=91, the same QN, PW and MN.
"""

from dataclasses import dataclass, field
from datetime import datetime

HEADER = b"##"
TRAILER = b"\r\n"
MAX_SEGMENT = 9999  # four decimal digits; the standard's packets are at most 1024 bytes of data
ST_SYSTEM = "91"
CN_DATA_ANSWER = "9014"
FLAG_ANSWER_ASKED = 0b01
FLAG_SPLIT = 0b10
FLAG_2017 = 0b100  # version bits 000001 shifted past D and A

# Data uploads and what they are (CN).
REALTIME = "2011"  # 实时数据
MINUTE = "2051"  # 分钟数据
HOUR = "2061"  # 小时数据
DAY = "2031"  # 日数据
GRAINS = {MINUTE: "minute", HOUR: "hour", DAY: "day"}


class FrameError(ValueError):
    """A packet that cannot be taken: ``reason`` is monitoring.choices.RejectReason's value."""

    def __init__(self, reason, message, mn=""):
        super().__init__(message)
        self.reason = reason
        self.mn = mn


def crc16(data):
    """HJ 212-2017's CRC16 over the data segment's bytes (its appendix: register 0xFFFF; for each byte, the
    register's high byte XOR the byte, then eight shifts right with 0xA001 when the bit shifted out is 1)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            carry = crc & 1
            crc >>= 1
            if carry:
                crc ^= 0xA001
    return crc


def frame(segment):
    """The bytes on the wire for a data segment (str)."""
    data = segment.encode("ascii")
    if len(data) > MAX_SEGMENT:
        raise ValueError("data segment too long")
    return HEADER + f"{len(data):04d}".encode() + data + f"{crc16(data):04X}".encode() + TRAILER


@dataclass
class Packet:
    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    pnum: int | None
    pno: int | None
    data_time: datetime | None
    values: dict = field(
        default_factory=dict
    )  # pollutant code -> {"Rtd"|"Min"|"Avg"|"Max"|"Cou": float, "Flag": str}
    params: dict = field(default_factory=dict)  # other CP fields (e.g. RtdInterval)
    segment: str = ""

    @property
    def answer_asked(self):
        return bool(self.flag & FLAG_ANSWER_ASKED)


def _fields(text):
    found = {}
    for part in text.split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise FrameError("bad_frame", f"字段“{part[:20]}”缺少“=”")
        found[key] = value
    return found


def parse_cp(text):
    """(data_time, values, params) from the CP content (between the && pairs)."""
    data_time, values, params = None, {}, {}
    for group in text.split(";"):
        if not group:
            continue
        for item in group.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise FrameError("bad_data", f"数据区字段“{item[:20]}”缺少“=”")
            if key == "DataTime":
                try:
                    data_time = datetime.strptime(value, "%Y%m%d%H%M%S")
                except ValueError:
                    raise FrameError("bad_data", f"数据时间“{value[:20]}”无效") from None
                continue
            code, dash, what = key.partition("-")
            if not dash:
                params[key] = value
                continue
            entry = values.setdefault(code, {})
            if what == "Flag":
                entry["Flag"] = value[:2]
            else:
                try:
                    number = float(value)
                except ValueError:
                    raise FrameError("bad_data", f"“{key}”的值“{value[:20]}”不是数值") from None
                if number != number or number in (float("inf"), float("-inf")):
                    raise FrameError("bad_data", f"“{key}”的值无效")
                entry[what] = number
    return data_time, values, params


def parse_segment(segment):
    """A Packet from the data segment (its CRC already checked)."""
    head, marker, rest = segment.partition("CP=&&")
    if not marker or not rest.endswith("&&"):
        raise FrameError("bad_frame", "缺少 CP=&&…&& 数据区")
    fields = _fields(head)
    mn = fields.get("MN", "")
    for name in ("ST", "CN", "MN"):
        if not fields.get(name):
            raise FrameError("bad_frame", f"缺少 {name}", mn=mn)
    try:
        flag = int(fields.get("Flag") or 0)
        pnum = int(fields["PNUM"]) if "PNUM" in fields else None
        pno = int(fields["PNO"]) if "PNO" in fields else None
    except ValueError:
        raise FrameError("bad_frame", "Flag、PNUM 或 PNO 不是整数", mn=mn) from None
    try:
        data_time, values, params = parse_cp(rest[:-2])
    except FrameError as error:
        error.mn = mn
        raise
    return Packet(
        qn=fields.get("QN", ""),
        st=fields["ST"],
        cn=fields["CN"],
        pw=fields.get("PW", ""),
        mn=mn,
        flag=flag,
        pnum=pnum,
        pno=pno,
        data_time=data_time,
        values=values,
        params=params,
        segment=segment,
    )


def _mn_of(segment):
    start = segment.find("MN=")
    if start < 0:
        return ""
    return segment[start + 3 :].split(";", 1)[0][:64]


def parse_frame(raw):
    """A Packet from one frame (bytes, with or without the trailing CR LF); FrameError otherwise."""
    if raw.endswith(TRAILER):
        raw = raw[: -len(TRAILER)]
    if not raw.startswith(HEADER) or len(raw) < 2 + 4 + 4:
        raise FrameError("bad_frame", "报文头不是 ## 或报文过短")
    length_text = raw[2:6]
    if not length_text.isdigit():
        raise FrameError("bad_frame", "数据段长度不是四位数字")
    length = int(length_text)
    data, crc_text = raw[6:-4], raw[-4:]
    try:
        segment = data.decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("bad_frame", "数据段含非 ASCII 字符") from None
    mn = _mn_of(segment)
    if len(data) != length:
        raise FrameError("bad_frame", f"数据段长度应为 {length}，实为 {len(data)}", mn=mn)
    try:
        crc = int(crc_text.decode("ascii"), 16)
    except (UnicodeDecodeError, ValueError):
        raise FrameError("bad_crc", "CRC 不是四位十六进制数", mn=mn) from None
    if crc != crc16(data):
        raise FrameError(
            "bad_crc",
            f"CRC 校验错误（报文 {crc_text.decode('ascii', 'replace')}，计算 {crc16(data):04X}）",
            mn=mn,
        )
    return parse_segment(segment)


def answer(packet):
    """The data answer (CN=9014) the platform sends when a packet asks for one."""
    segment = f"QN={packet.qn};ST={ST_SYSTEM};CN={CN_DATA_ANSWER};PW={packet.pw};MN={packet.mn};Flag={FLAG_2017};CP=&&&&"
    return frame(segment)


def data_segment(
    *, mn, cn, data_time, values, pw="123456", st="32", qn=None, flag=FLAG_2017 | FLAG_ANSWER_ASKED
):
    """A data upload's segment, as a station (or a test, or the benchmark) writes it. values: {code: {field: value}}."""
    qn = qn or data_time.strftime("%Y%m%d%H%M%S") + "000"
    groups = [f"DataTime={data_time:%Y%m%d%H%M%S}"]
    for code, entry in values.items():
        groups.append(",".join(f"{code}-{name}={value}" for name, value in entry.items()))
    return f"QN={qn};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&{';'.join(groups)}&&"
