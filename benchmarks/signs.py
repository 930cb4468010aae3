"""Sign boards (portal/signboard.py): the time of one batch PDF of 300 signs at true size with bleed and crop
marks, as a county's print run would be, for each size; and of one sign alone. No database.

The contents are generated (``Random(42)``): names, entities and pollutants drawn from realistic parts, so the
embedded font subset is as large as a county's batch makes it. The first batch of each size includes building
the font subset (``cold``); the repeats reuse it, as a worker process does after its first batch.
Writes bench-results/signs.json.
"""

import io
import random
import resource
import statistics
import time

from .common import env_int, format_table, log, write_json

NAME = "signs"

PLACES = "平城区 云冈区 新荣区 云州区 阳高县 天镇县 广灵县 灵丘县 浑源县 左云县 经开区".split()
TOWNS = "西坪镇 口泉乡 高山镇 古城镇 罗文皂镇 南洋河乡 壶泉镇 武灵镇 永安镇 管家堡乡 马军营乡 聚乐乡".split()
RIVERS = "桑干河 御河 十里河 南洋河 壶流河 唐河 浑河 淤泥河".split()
UNITS = "山橡集团 七零研究所 恒安污水处理厂 鑫磊矿业 同煤电厂 大唐热电 燕京啤酒 华润雪花 北方焦化 塔山煤矿".split()
TYPES = [
    "工业排污口（工矿企业排污口）",
    "城镇污水处理厂排污口",
    "农业排口（规模化畜禽养殖排污口）",
    "其他排口（大中型灌区排口）",
]
POLLUTANTS = "化学需氧量 氨氮 总磷 总氮 石油类 悬浮物 动植物油 五日生化需氧量 挥发酚 氟化物".split()


def contents(n, seed=42):
    from outfalls.portal.signboard import SignContent

    rnd = random.Random(seed)
    out = []
    for i in range(n):
        place, town, river, unit = (
            rnd.choice(PLACES),
            rnd.choice(TOWNS),
            rnd.choice(RIVERS),
            rnd.choice(UNITS),
        )
        code = f"1402{rnd.randint(10, 99)}-{rnd.choice(['GY', 'SH', 'NY', 'QT'])}-{i:06d}"
        out.append(
            SignContent(
                name=f"{place}{town}{river}{unit}入河排污口",
                code=code,
                type_label=rnd.choice(TYPES),
                entity=f"大同{unit}有限责任公司",
                pollutants="、".join(rnd.sample(POLLUTANTS, rnd.randint(2, 6))),
                supervisor=f"大同市生态环境局{place[:2]}分局",
                phone="12369",
                url=f"https://hbj.example.gov.cn/public/outfalls/{code}/",
            )
        )
    return out


def run(out=None):
    from pypdf import PdfReader

    from outfalls.portal.signboard import SIZES, render_batch, render_sign

    n = env_int("BENCH_SIGNS", 300)
    repeat = env_int("BENCH_SIGNS_REPEAT", 3)
    batch = contents(n)
    report = {"signs": n, "repeat": repeat, "sizes": {}}
    rows = []
    for size in SIZES:
        start = time.perf_counter()
        data = render_batch(batch, size)
        cold = time.perf_counter() - start
        pages = len(PdfReader(io.BytesIO(data)).pages)
        if pages != n:
            raise RuntimeError(f"expected {n} pages, got {pages}")
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            render_batch(batch, size)
            warm.append(time.perf_counter() - start)
        singles = []
        for content in batch[:20]:
            start = time.perf_counter()
            render_sign(content, size)
            singles.append(time.perf_counter() - start)
        figures = {
            "batch_cold_seconds": cold,
            "batch_warm_median_seconds": statistics.median(warm),
            "per_sign_ms": statistics.median(warm) / n * 1000,
            "batch_bytes": len(data),
            "single_sign_median_ms": statistics.median(singles) * 1000,
            "single_sign_max_ms": max(singles) * 1000,
        }
        report["sizes"][size] = figures
        rows.append(
            [
                size,
                f"{n}",
                f"{cold:.2f} s",
                f"{figures['batch_warm_median_seconds']:.2f} s",
                f"{figures['per_sign_ms']:.1f} ms",
                f"{len(data) / 1e6:.1f} MB",
                f"{figures['single_sign_median_ms']:.0f} ms",
                f"{figures['single_sign_max_ms']:.0f} ms",
            ]
        )
    report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log(f"\nSign boards: a batch of {n} signs with bleed and crop marks, and single signs\n", out)
    headers = ["size", "signs", "batch cold", "batch warm", "per sign", "PDF", "one sign p50", "one sign max"]
    log(format_table(headers, rows, right=set(range(1, 8))), out)
    log(f"peak resident memory of the process: {report['max_rss_mb']:.0f} MB", out)
    path = write_json(NAME, report)
    log(f"\nWrote {path}", out)
    return report
