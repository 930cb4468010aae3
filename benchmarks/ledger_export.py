"""The attachment-1 xlsx (registry/ledger_export.write_xlsx) of 20,000 rows: what printing costs.

The export is a write-only (streaming) workbook that prints as one table: page set-up and print titles
cost nothing per row, but each row's height is measured from its wrapped text (core/spreadsheets.row_height)
before the row is written. This benchmark writes BENCH_EXPORT_ROWS rows (default 20,000) of constructed
cell dicts (no database: names, places and coordinates unique per row, as in a real ledger) three times
with the row heights and three times with a constant height instead, and reports the medians, the time
spent inside row_height, the file size and the peak of Python memory (tracemalloc, one more run each).
Writes bench-results/ledger_export.json.
"""

import io
import random
import statistics
import time
import tracemalloc
from datetime import date

from .common import env_int, format_table, log, write_json

NAME = "ledger_export"
REPEAT = 3

RIVERS = ("御河", "十里河", "桑干河", "口泉河", "壶流河", "南洋河", "淤泥河")
TOWNS = ("新建南路街道", "北关街道", "作疃乡", "南村镇", "壶泉镇", "西坪镇")
VILLAGES = ("幸福社区", "和平社区", "柳林村", "高家村村", None)
KINDS = ("工业企业", "城镇污水处理厂", "农村污水处理设施", "畜禽养殖场", "机关事业单位")
CLASSES = ("工业企业排污口", "城镇雨洪排口", "城镇生活污水散排口", "规模化畜禽养殖排污口", "其他排口")
OUTLETS = (
    "右岸，御河右岸，管道出口，DN800",
    "左岸，十里河左岸，明渠出口，宽约0.8米",
    "河床（潜没），潜没出口",
)


def cell_dicts(n, seed=42):
    rng = random.Random(seed)
    for i in range(1, n + 1):
        river, town = rng.choice(RIVERS), rng.choice(TOWNS)
        village = rng.choice(VILLAGES)
        unit = f"大同市{town[:2]}{rng.choice(('润丰', '德润', '兴隆', '鑫源'))}{i}有限公司" if i % 3 else None
        yield {
            "seq": i,
            "water_body": river,
            "section_interval": rng.choice(("张家场断面下游", "孤山—艾庄", "东册田村北桥断面下游")),
            "county": "平城区",
            "town": town,
            "village": village,
            "name": f"大同市平城区{town}{village or ''}{river}{i}#{rng.choice(CLASSES)}",
            "location": f"{113 + rng.random():.6f},{39.5 + rng.random():.6f}",
            "entry_mode": rng.choice(("明渠", "管道", "闸泵联用")),
            "outlet": rng.choice(OUTLETS),
            "conveyance": rng.choice(("明渠", "管道", "暗渠（涵）")),
            "responsible_entity": unit,
            "unit_location": f"{113 + rng.random():.6f},{39.5 + rng.random():.6f}" if unit else None,
            "unit_kind": rng.choice(KINDS) if unit else None,
            "classification": rng.choice(CLASSES),
            "rectification": rng.choice(("未整治", "正在整治", "已完成")),
            "registered": rng.choice(("是", "否")),
            "approval_date": date(2021, 1 + i % 12, 1 + i % 28) if i % 4 == 0 else None,
            "permit_number": f"91140213MA0{i:07d}001P" if i % 5 == 0 else None,
            "code": f"YH01-140213-GY-{i:04d}",
            "national_code": f"140213GY{i:04d}" if i % 2 else None,
        }


def _write(rows, measure_heights):
    """Write the rows once; return (seconds, seconds inside row_height, bytes)."""
    from outfalls.registry import ledger_export

    measured = ledger_export.row_height
    inside = [0.0]

    def timed(cells, size=11, minimum=0.0):
        start = time.perf_counter()
        try:
            return measured(cells, size, minimum) if measure_heights else 15.0
        finally:
            inside[0] += time.perf_counter() - start

    ledger_export.row_height = timed
    try:
        out = io.BytesIO()
        start = time.perf_counter()
        ledger_export.write_xlsx(rows, out, title_subject="平城区", city="大同市")
        return time.perf_counter() - start, inside[0], len(out.getvalue())
    finally:
        ledger_export.row_height = measured


def _peak_mib(rows, measure_heights):
    tracemalloc.start()
    try:
        _write(rows, measure_heights)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(out=None):
    from outfalls.core.spreadsheets import text_lines

    n = env_int("BENCH_EXPORT_ROWS", 20_000)
    rows = list(cell_dicts(n))
    report = {"rows": n}
    table = []
    for label, heights in (("row heights measured", True), ("constant row height", False)):
        runs = []
        for _ in range(REPEAT):
            text_lines.cache_clear()
            runs.append(_write(rows, heights))
        seconds = statistics.median(r[0] for r in runs)
        inside = statistics.median(r[1] for r in runs)
        peak = _peak_mib(rows, heights)
        report[label] = {
            "seconds": seconds,
            "row_height_seconds": inside,
            "bytes": runs[0][2],
            "peak_mib": peak,
        }
        table.append(
            [label, f"{seconds:.2f} s", f"{inside:.2f} s", f"{runs[0][2] / 2**20:.1f} MiB", f"{peak:.1f}"]
        )
    log(f"\nAttachment-1 xlsx, {n:,} rows (write-only workbook, printed layout; median of {REPEAT})\n", out)
    log(
        format_table(["variant", "write", "in row_height", "file", "peak MiB"], table, right={1, 2, 3, 4}),
        out,
    )
    path = write_json(NAME, report)
    log(f"\nWrote {path}", out)
    return report
