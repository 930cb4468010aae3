"""The HJ 212-2017 listener: the standard's CRC and framing, and a real TCP server driven over a socket with
recorded-style packets: answers where the protocol asks, minute/hour/day values stored per station, a bad CRC or
an unknown MN logged and counted but never stored or answered; and the management command as its own process."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from outfalls.core.models import Jurisdiction
from outfalls.monitoring import library, stations
from outfalls.monitoring.hj212 import protocol
from outfalls.monitoring.hj212.server import Listener
from outfalls.monitoring.models import DayValue, HourValue, MinuteValue, Parameter, RejectedPackets, Station
from outfalls.registry.models import Outfall, WaterBody

# The standard's own example (HJ 212-2017, appendix A): the data segment of 101 bytes and its CRC 1C80.
EXAMPLE = (
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
)
MN = "88888880000001"
PW = "123456"


def test_the_crc_and_the_frame_of_the_standards_example():
    assert protocol.crc16(EXAMPLE.encode()) == 0x1C80
    assert protocol.frame(EXAMPLE) == b"##0101" + EXAMPLE.encode() + b"1C80\r\n"
    packet = protocol.parse_frame(protocol.frame(EXAMPLE))
    assert (packet.qn, packet.st, packet.cn, packet.mn, packet.flag, packet.params) == (
        "20160801085857223",
        "32",
        "1062",
        "010000A8900016F000169DC0",
        5,
        {"RtdInterval": "30"},
    )
    assert packet.answer_asked


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"##0101" + EXAMPLE.encode() + b"1C81\r\n", "bad_crc"),
        (b"##0101" + EXAMPLE.encode() + b"ZZZZ\r\n", "bad_crc"),
        (b"##0100" + EXAMPLE.encode() + b"1C80\r\n", "bad_frame"),
        (b"#*0101" + EXAMPLE.encode() + b"1C80\r\n", "bad_frame"),
        (protocol.frame("QN=1;ST=32;CN=2011;MN=X;Flag=4;CP=&&DataTime=2016&&"), "bad_data"),
        (protocol.frame("QN=1;ST=32;CN=2011;MN=X;Flag=4"), "bad_frame"),
        (
            protocol.frame("QN=1;ST=32;CN=2061;MN=X;Flag=4;CP=&&DataTime=20240101000000;w01018-Avg=abc&&"),
            "bad_data",
        ),
    ],
)
def test_refused_frames_say_why(raw, reason):
    with pytest.raises(protocol.FrameError) as error:
        protocol.parse_frame(raw)
    assert error.value.reason == reason


def test_data_and_the_answer():
    segment = protocol.data_segment(
        mn=MN,
        cn=protocol.HOUR,
        data_time=datetime(2024, 5, 1, 8),
        values={
            "w01018": {"Min": 10, "Avg": 12.5, "Max": 15, "Flag": "N"},
            "w00000": {"Avg": 2, "Cou": 7.2, "Flag": "N"},
        },
    )
    packet = protocol.parse_frame(protocol.frame(segment))
    assert packet.data_time == datetime(2024, 5, 1, 8)
    assert packet.values == {
        "w01018": {"Min": 10, "Avg": 12.5, "Max": 15, "Flag": "N"},
        "w00000": {"Avg": 2, "Cou": 7.2, "Flag": "N"},
    }
    answer = protocol.answer(packet)
    reply = protocol.parse_frame(answer)
    assert (reply.qn, reply.st, reply.cn, reply.mn, reply.flag) == (packet.qn, "91", "9014", MN, 4)
    assert not reply.answer_asked


@given(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="&;=,"),
        min_size=1,
        max_size=40,
    )
)
def test_any_segment_frames_and_checks(text):
    segment = f"QN=1;ST=32;CN=2011;MN={text};Flag=4;CP=&&&&"
    assert protocol.parse_frame(protocol.frame(segment)).mn == text


# Over a real socket --------------------------------------------------------------------------------------------
def make_station(**fields):
    library.load_library()  # a transactional test before this one may have flushed the library away
    county = Jurisdiction.objects.create(code="149901", name="测试县", level="county")
    water = WaterBody.objects.create(name="测试河", code="TESTRIVER")
    outfall = Outfall.objects.create(
        county=county, water_body=water, lon=113.3, lat=40.1, type_code="SH", type_level2="municipal_wwtp"
    )
    return Station.objects.create(code="ST-1", name="测试站", outfall=outfall, mn=MN, password=PW, **fields)


def send(sock, data, answers=0, timeout=5):
    sock.sendall(data)
    received = b""
    deadline = time.monotonic() + timeout
    while received.count(b"\r\n") < answers and time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    return [protocol.parse_frame(line) for line in received.split(b"\r\n") if line]


def upload(cn, when, values, *, flag=5, mn=MN, pw=PW, qn=None):
    return protocol.frame(
        protocol.data_segment(mn=mn, pw=pw, cn=cn, data_time=when, values=values, flag=flag, qn=qn)
    )


@pytest.fixture
def listener(transactional_db):
    server = Listener("127.0.0.1", 0, batch_seconds=0.02, evaluate_seconds=0)
    yield server
    server.stop()


def test_the_listener_over_a_socket(listener):
    station = make_station()
    listener.start()
    hour = datetime(2024, 5, 1, 8)
    with socket.create_connection(listener.address[:2]) as sock:
        answers = send(
            sock, upload(protocol.MINUTE, hour, {"w01018": {"Avg": 20, "Flag": "N"}}, qn="Q1"), answers=1
        )
        assert [(a.cn, a.qn, a.mn) for a in answers] == [("9014", "Q1", MN)]
        # Two frames in one write, the second split over two writes; the day's packet asks for no answer.
        both = upload(
            protocol.HOUR,
            hour,
            {
                "w01018": {"Min": 18, "Avg": 21.5, "Max": 25, "Flag": "N"},
                "w00000": {"Avg": 10, "Cou": 36, "Flag": "N"},
                "w99999": {"Avg": 1},
            },
            qn="Q2",
        )
        day = upload(
            protocol.DAY, datetime(2024, 5, 1), {"w21003": {"Avg": 3.2, "Flag": "N"}}, flag=4, qn="Q3"
        )
        answers = send(sock, both + day[:20], answers=1)
        answers += send(sock, day[20:])
        assert [a.qn for a in answers] == ["Q2"]
        # A bad CRC and an unknown MN: no answer, nothing stored.
        bad = bytearray(upload(protocol.HOUR, hour + timedelta(hours=1), {"w01018": {"Avg": 99}}, qn="Q4"))
        bad[-4] = ord("0") if bad[-4] != ord("0") else ord("1")
        stranger = upload(protocol.HOUR, hour, {"w01018": {"Avg": 99}}, mn="UNKNOWN-MN-0001", qn="Q5")
        wrong_pw = upload(protocol.HOUR, hour, {"w01018": {"Avg": 99}}, pw="000000", qn="Q6")
        assert send(sock, bytes(bad) + stranger + wrong_pw + b"noise\r\n", answers=1, timeout=1) == []
        # The same hour again with a corrected value replaces it.
        answers = send(
            sock,
            upload(protocol.HOUR, hour, {"w01018": {"Min": 18, "Avg": 22, "Max": 25, "Flag": "N"}}, qn="Q7"),
            answers=1,
        )
        assert [a.qn for a in answers] == ["Q7"]
    assert listener.flush()
    cod, flow, nh3n = (Parameter.objects.get(code=c) for c in ("COD", "FLOW", "NH3N"))
    at = timezone.make_aware(hour)
    assert list(MinuteValue.objects.filter(station=station).values_list("parameter", "avg")) == [(cod.pk, 20)]
    hours = {v.parameter_id: v for v in HourValue.objects.filter(station=station)}
    assert set(hours) == {cod.pk, flow.pk} and hours[cod.pk].avg == 22 and hours[cod.pk].at == at
    assert hours[flow.pk].avg == pytest.approx(36) and hours[flow.pk].cou == 36  # 10 L/s = 36 m³/h
    assert hours[cod.pk].outfall_id == station.outfall_id
    assert DayValue.objects.get(station=station).parameter_id == nh3n.pk
    rejected = {(r.reason, r.mn): r.count for r in RejectedPackets.objects.all()}
    assert rejected == {
        ("bad_crc", MN): 1,
        ("unknown_mn", "UNKNOWN-MN-0001"): 1,
        ("bad_password", MN): 1,
        ("bad_frame", ""): 1,
    }
    assert RejectedPackets.objects.get(reason="unknown_mn").peer.startswith("127.0.0.1:")
    station.refresh_from_db()
    assert station.last_seen_at is not None and station.last_data_at == at
    assert listener.stats.answers == 3 and listener.stats.unknown_codes == 1
    assert not HourValue.objects.filter(avg=99).exists()


def test_offline_stations_and_gaps(db):
    station = make_station(offline_after_minutes=60)
    now = timezone.now()
    assert stations.status_of(station, now).state == "never"
    station.last_seen_at = now - timedelta(minutes=30)
    assert stations.status_of(station, now).state == "online"
    station.last_seen_at = now - timedelta(minutes=90)
    assert stations.status_of(station, now).state == "offline"
    cod = Parameter.objects.get(code="COD")
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    for hours_back in [*range(1, 10), *range(16, 24)]:  # hours 10–15 back missing
        HourValue.objects.create(station=station, parameter=cod, at=end - timedelta(hours=hours_back), avg=1)
    gaps = stations.gaps(station, days=1, now=now)
    assert gaps[0] == (end - timedelta(hours=15), end - timedelta(hours=9), 6)
    assert gaps[1][2] == 1  # the first hour of the day-long window has no value either


def _database_url():
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return f"postgresql://{settings['USER']}@/{settings['NAME']}?host={settings['HOST']}"


def test_the_command_runs_as_its_own_process(transactional_db):
    make_station()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": _database_url(), "MONITORING_LISTENER_EVALUATE_SECONDS": "0"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "hj212_listen", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert "HJ 212 监听 127.0.0.1" in process.stdout.readline()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            answers = send(
                sock,
                upload(protocol.HOUR, datetime(2024, 5, 2, 9), {"w01018": {"Avg": 30}}, qn="P1"),
                answers=1,
                timeout=10,
            )
        assert [a.qn for a in answers] == ["P1"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "入库报文 1" in out and HourValue.objects.filter(avg=30).count() == 1
