"""Monitoring benchmarks (docs/benchmarks.md, "Monitoring"), three entries of `make bench`, each ratio measured in
the same run:

- ``monitoring_eval``: the exceedance engine (monitoring/exceedances.py) over BENCH_MONITORING_VALUES (10 million)
  sample values against a bare SELECT of the same rows in the same order; and a year of one outfall read from
  the value table (the index ``sv_outfall_param_time``) at that size, p50/p95 over many outfalls;
- ``hj212_ingest``: the HJ 212 listener over loopback (parse, CRC, MN, answers, batched writes of hour values)
  against a bare socket server that only reads the same bytes;
- ``impact``: the downstream-impact query (monitoring/loads.py) at BENCH_OUTFALLS (100,000) outfalls, after
  computing every outfall's loads, against a bare SELECT of the outfalls on the same rivers.

They run on the ledger benchmark's database (BENCH_DATABASE_URL, var/bench.sqlite3, topped up to 100,000
outfalls). The generated samples are marked (lab "benchmark") and kept between runs; a different size
regenerates them. Writes bench-results/<name>.json.
"""

import random
import socket
import threading
import time
from datetime import datetime, timedelta

from .common import env_int, environment, format_table, log, migrate, percentile, write_json

BENCH_LAB = "benchmark"
PARAMETERS = ("COD", "NH3N", "TP", "TN", "SS", "BOD5", "pH", "TEMP")
TYPES = ("municipal_wwtp", "industrial_mining")
START = datetime(2024, 1, 1)
YEARS = 3


def _prepare(out):
    from .ledger import analyze, ensure_outfalls, ensure_reference_data

    migrate()
    ensure_reference_data(out)
    ensure_outfalls(env_int("BENCH_OUTFALLS", 100_000), out)
    analyze(out)


# Generated samples ---------------------------------------------------------------------------------------
def ensure_values(total, per_outfall, out):
    """BENCH_LAB samples holding `total` values: per_outfall values on each of total // per_outfall outfalls
    (municipal and industrial plants), 8 parameters a sample, evenly over three years; about 2 % over the
    limits. Returns the outfall ids."""
    from django.db import connection, transaction
    from django.utils import timezone

    from outfalls.monitoring import partitions
    from outfalls.monitoring.models import Parameter, Sample, SampleValue
    from outfalls.registry.models import Outfall

    n_outfalls = max(total // per_outfall, 1)
    samples_each = max(per_outfall // len(PARAMETERS), 1)
    ids = list(
        Outfall.objects.filter(type_level2__in=TYPES).order_by("pk").values_list("pk", flat=True)[:n_outfalls]
    )
    have = SampleValue.objects.filter(sample__lab=BENCH_LAB).count()
    expected = len(ids) * samples_each * len(PARAMETERS)
    if have == expected:
        log(f"{have:,} generated sample values present: reusing them.", out)
        return ids
    log(f"Generating {expected:,} sample values on {len(ids):,} outfalls ({have:,} present) ...", out)
    started = time.perf_counter()
    SampleValue.objects.filter(sample__lab=BENCH_LAB).delete()
    Sample.objects.filter(lab=BENCH_LAB).delete()
    parameters = {p.code: p.pk for p in Parameter.objects.filter(code__in=PARAMETERS)}
    typical = {"COD": 30, "NH3N": 3, "TP": 0.3, "TN": 10, "SS": 8, "BOD5": 6, "pH": 7.2, "TEMP": 15}
    zone = timezone.get_current_timezone()
    start = START.replace(tzinfo=zone)
    step = timedelta(days=365 * YEARS) / samples_each
    months = sorted({(start + step * i).replace(day=1, hour=0, minute=0) for i in range(samples_each)})
    partitions.ensure_for(SampleValue, months)
    rng = random.Random(42)
    next_id = (Sample.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = timezone.now()
    sample_sql = (
        "INSERT INTO monitoring_sample (id, outfall_id, source, sampled_at, place, flow_unit, weather, lab, "
        "lab_sample_id, key, notes, created_at) VALUES (%s, %s, 'self', %s, '', '', '', %s, '', %s, '', %s)"
    )
    value_sql = (
        "INSERT INTO monitoring_samplevalue (sample_id, outfall_id, parameter_id, sampled_at, value, unit, "
        "value_std, qualifier) VALUES (%s, %s, %s, %s, %s, '', %s, '')"
    )
    for offset in range(0, len(ids), 50):
        samples, values = [], []
        for outfall in ids[offset : offset + 50]:
            for i in range(samples_each):
                at = start + step * i + timedelta(minutes=rng.randrange(600))
                samples.append((next_id, outfall, at, BENCH_LAB, f"bench:{next_id}", now))
                for code in PARAMETERS:
                    base = typical[code]
                    value = base * (3 if rng.random() < 0.02 else rng.uniform(0.3, 1.2))
                    if code == "pH":
                        value = rng.uniform(6.5, 8.5)
                    values.append((next_id, outfall, parameters[code], at, value, value))
                next_id += 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sample_sql, samples)
            cursor.executemany(value_sql, values)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('monitoring_sample', 'id'), "
                "(SELECT max(id) FROM monitoring_sample))"
            )
    from .ledger import analyze

    analyze(out)
    log(f"  done in {time.perf_counter() - started:.0f} s", out)
    return ids


def run_eval(out=None):
    from django.db import connection

    from outfalls.monitoring import exceedances
    from outfalls.monitoring.models import Finding, Parameter

    _prepare(out)
    total = env_int("BENCH_MONITORING_VALUES", 10_000_000)
    per_outfall = env_int("BENCH_MONITORING_PER_OUTFALL", 2_000)
    ids = ensure_values(total, per_outfall, out)
    wanted = list(Parameter.objects.filter(code__in=PARAMETERS).values_list("pk", flat=True))

    # A year of one outfall: the chart's and the API's query.
    rng = random.Random(7)
    year_times, rows_seen = [], 0
    for outfall in rng.sample(ids, min(200, len(ids))):
        year = rng.choice(range(START.year, START.year + YEARS))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, parameter_id, sampled_at, value_std, qualifier FROM monitoring_samplevalue "
                "WHERE outfall_id = %s AND sampled_at >= %s AND sampled_at < %s ORDER BY parameter_id, sampled_at",
                [outfall, f"{year}-01-01", f"{year + 1}-01-01"],
            )
            rows_seen += len(cursor.fetchall())
        year_times.append(time.perf_counter() - started)

    # The bare SELECT: the rows the engine reads, in its batches and order, fetched and dropped.
    placeholders = ",".join(["%s"] * len(wanted))
    started = time.perf_counter()
    bare_rows = 0
    for offset in range(0, len(ids), exceedances.BATCH_OUTFALLS):
        batch = ids[offset : offset + exceedances.BATCH_OUTFALLS]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, outfall_id, parameter_id, sampled_at, value_std, qualifier, detection_limit_std, "
                f"sample_id FROM monitoring_samplevalue WHERE outfall_id IN ({','.join(['%s'] * len(batch))}) "
                f"AND parameter_id IN ({placeholders}) ORDER BY outfall_id, parameter_id, sampled_at, id",
                [*batch, *wanted],
            )
            while chunk := cursor.fetchmany(10_000):
                bare_rows += len(chunk)
    bare = time.perf_counter() - started

    Finding.objects.filter(outfall_id__in=ids).delete()
    started = time.perf_counter()
    summary = exceedances.evaluate(ids)
    first = time.perf_counter() - started
    started = time.perf_counter()
    exceedances.evaluate(ids)  # again: every finding already there (the nightly run)
    again = time.perf_counter() - started

    report = {
        "environment": environment(),
        "values": bare_rows,
        "outfalls": len(ids),
        "year_of_one_outfall_ms": {
            "p50": percentile(year_times, 50) * 1000,
            "p95": percentile(year_times, 95) * 1000,
            "max": max(year_times) * 1000,
            "rows_mean": rows_seen / len(year_times),
        },
        "bare_select_s": bare,
        "evaluate_first_s": first,
        "evaluate_again_s": again,
        "ratio_first": first / bare,
        "ratio_again": again / bare,
        "findings": summary.text(),
    }
    log(f"\nExceedance evaluation over {bare_rows:,} sample values on {connection.vendor}\n", out)
    log(
        format_table(
            ["run", "what", "seconds", "values/s", "x bare SELECT"],
            [
                [
                    "bare SELECT",
                    "same rows, batches and order",
                    f"{bare:.1f}",
                    f"{bare_rows / bare:,.0f}",
                    "1.0",
                ],
                [
                    "evaluate",
                    "no findings before",
                    f"{first:.1f}",
                    f"{bare_rows / first:,.0f}",
                    f"{first / bare:.1f}",
                ],
                [
                    "evaluate",
                    "again (findings kept)",
                    f"{again:.1f}",
                    f"{bare_rows / again:,.0f}",
                    f"{again / bare:.1f}",
                ],
            ],
        ),
        out,
    )
    y = report["year_of_one_outfall_ms"]
    log(
        f"\nA year of one outfall ({y['rows_mean']:.0f} values): p50 {y['p50']:.1f} ms, p95 {y['p95']:.1f} ms, "
        f"max {y['max']:.1f} ms (goal: under 50 ms). Findings: {summary.text()}",
        out,
    )
    log(f"Wrote {write_json('monitoring_eval', report)}", out)
    return report


# HJ 212 ingest ---------------------------------------------------------------------------------------------
def _packets(n, mn, pw):
    from outfalls.monitoring.hj212 import protocol

    start = datetime(2024, 1, 1)
    values = {"w01018": {"Avg": 25.0, "Min": 20, "Max": 30, "Flag": "N"}, "w21003": {"Avg": 2.1, "Flag": "N"}}
    values |= {"w21011": {"Avg": 0.2, "Flag": "N"}, "w00000": {"Avg": 12, "Cou": 43.2, "Flag": "N"}}
    return [
        protocol.frame(
            protocol.data_segment(
                mn=mn, pw=pw, cn=protocol.HOUR, data_time=start + timedelta(hours=i), values=values, qn=str(i)
            )
        )
        for i in range(n)
    ]


def _send_all(address, data, answers=0, timeout=600):
    """Send data over one connection; read `answers` answers (in a second thread) before closing it."""
    received = bytearray()
    with socket.create_connection(address) as sock:
        reader = None
        if answers:

            def read():
                deadline = time.monotonic() + timeout
                while received.count(b"\r\n") < answers and time.monotonic() < deadline:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received.extend(chunk)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
        sock.sendall(data)
        if reader is not None:
            reader.join(timeout=timeout)
    return received


def _bare_server(total):
    """A server that reads `total` bytes from one connection and nothing else; returns (address, done event)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    done = threading.Event()

    def serve():
        conn, _ = server.accept()
        got = 0
        with conn:
            while got < total:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        server.close()
        done.set()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname(), done


def run_ingest(out=None):
    from django.db import connection

    from outfalls.core.models import Jurisdiction
    from outfalls.monitoring.hj212.server import Listener
    from outfalls.monitoring.models import HourValue, Station
    from outfalls.registry.models import Outfall

    _prepare(out)
    n = env_int("BENCH_HJ212_PACKETS", 20_000)
    mn, pw = "BENCH0000000001", "123456"
    outfall = Outfall.objects.filter(county__in=Jurisdiction.objects.counties()).order_by("pk").first()
    station, _ = Station.objects.update_or_create(
        mn=mn, defaults={"code": "BENCH-1", "name": "基准测试站", "outfall": outfall, "password": pw}
    )
    HourValue.objects.filter(station=station).delete()
    packets = _packets(n, mn, pw)
    data = b"".join(packets)

    address, done = _bare_server(len(data))
    started = time.perf_counter()
    _send_all(address, data)
    done.wait(60)
    bare = time.perf_counter() - started

    listener = Listener("127.0.0.1", 0, batch_size=1000, batch_seconds=0.05, evaluate_seconds=0).start()
    try:
        started = time.perf_counter()
        answers = _send_all(listener.address[:2], data, answers=n)
        listener.flush(timeout=600)
        ingest = time.perf_counter() - started
    finally:
        listener.stop()
    stored = HourValue.objects.filter(station=station).count()
    report = {
        "environment": environment(),
        "packets": n,
        "bytes": len(data),
        "values_stored": stored,
        "answers": answers.count(b"\r\n"),
        "bare_read_s": bare,
        "ingest_s": ingest,
        "ratio": ingest / bare,
        "packets_per_s": n / ingest,
    }
    log(f"\nHJ 212 ingest over loopback on {connection.vendor}: {n:,} hour packets, 4 values each\n", out)
    log(
        format_table(
            ["run", "what", "seconds", "packets/s", "x bare read"],
            [
                ["bare read", "a socket server reading the bytes", f"{bare:.2f}", f"{n / bare:,.0f}", "1.0"],
                [
                    "listener",
                    f"parse, CRC, MN, {report['answers']:,} answers, {stored:,} values stored",
                    f"{ingest:.2f}",
                    f"{n / ingest:,.0f}",
                    f"{ingest / bare:.0f}",
                ],
            ],
        ),
        out,
    )
    log(f"Wrote {write_json('hj212_ingest', report)}", out)
    return report


# Downstream impact ---------------------------------------------------------------------------------------
def run_impact(out=None):
    from django.db import connection

    from outfalls.monitoring import loads
    from outfalls.monitoring.models import Parameter
    from outfalls.registry.models import Outfall, Section

    _prepare(out)
    year = START.year + 1
    started = time.perf_counter()
    written = loads.compute(year)
    compute_s = time.perf_counter() - started
    cod = Parameter.objects.get(code="COD")
    everyone = Outfall.objects.all()
    lines = loads.river_lines()
    joins = loads.confluences(lines)
    sections = list(Section.objects.filter(water_body_id__in=lines).order_by("pk"))
    timings, bare_timings, found = [], [], []
    for section in sections:
        started = time.perf_counter()
        result = loads.downstream_impact(section, cod, within_km=30, year=year, outfalls=everyone)
        timings.append(time.perf_counter() - started)
        found.append(len(result))
        reach = loads.upstream_reach(
            lines,
            joins,
            section.water_body_id,
            lines[section.water_body_id][1].chainage(section.lon, section.lat),
            30,
        )
        waters = sorted({w for w, *_ in reach})
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, water_body_id, lon, lat FROM registry_outfall WHERE water_body_id IN "
                f"({','.join(['%s'] * len(waters))})",
                waters,
            )
            cursor.fetchall()
        bare_timings.append(time.perf_counter() - started)
    report = {
        "environment": environment(),
        "outfalls": everyone.count(),
        "loads_written": written,
        "compute_loads_s": compute_s,
        "sections": len(sections),
        "impact_ms": {"p50": percentile(timings, 50) * 1000, "p95": percentile(timings, 95) * 1000},
        "bare_select_ms": {"p50": percentile(bare_timings, 50) * 1000},
        "outfalls_found_mean": sum(found) / len(found),
    }
    report["ratio_p50"] = report["impact_ms"]["p50"] / report["bare_select_ms"]["p50"]
    log(f"\nDownstream impact at {report['outfalls']:,} outfalls on {connection.vendor} (30 km, COD)\n", out)
    log(
        format_table(
            ["what", "", "ms p50", "ms p95"],
            [
                [
                    "bare SELECT",
                    "outfalls on the rivers reached",
                    f"{report['bare_select_ms']['p50']:.1f}",
                    "",
                ],
                [
                    "downstream_impact",
                    f"{len(sections)} sections, {report['outfalls_found_mean']:,.0f} outfalls found on average",
                    f"{report['impact_ms']['p50']:.1f}",
                    f"{report['impact_ms']['p95']:.1f}",
                ],
            ],
        ),
        out,
    )
    log(
        f"x bare SELECT (p50): {report['ratio_p50']:.1f}. Loads of {written:,} rows computed in {compute_s:.1f} s.",
        out,
    )
    log(f"Wrote {write_json('impact', report)}", out)
    return report
