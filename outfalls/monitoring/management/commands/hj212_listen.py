"""Run the HJ 212-2017 listener (monitoring/hj212/server.py) in the foreground until stopped (SIGTERM, Ctrl+C)."""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from outfalls.monitoring.hj212.server import Listener


class Command(BaseCommand):
    help = "接收在线监测设备的 HJ 212-2017 报文（TCP），写入分钟、小时、日数据并按协议应答。"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, required=True, help="监听端口")
        parser.add_argument("--host", default="0.0.0.0", help="监听地址，默认 0.0.0.0")

    def handle(self, *args, **options):
        if not 0 < options["port"] < 65536:
            raise CommandError("端口应在 1–65535 之间。")
        try:
            listener = Listener(options["host"], options["port"])
        except OSError as error:
            raise CommandError(
                f"无法监听 {options['host']}:{options['port']}：{error.strerror or error}"
            ) from None

        def stop(signum, frame):
            threading.Thread(target=listener.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        host, port = listener.address[:2]
        self.stdout.write(f"HJ 212 监听 {host}:{port}（Ctrl+C 停止）")
        self.stdout.flush()
        listener.serve_forever()
        s = listener.stats
        self.stdout.write(
            f"已停止：连接 {s.connections}，报文 {s.frames}，入库报文 {s.stored_packets}（数值 {s.stored_values}），"
            f"应答 {s.answers}，拒收 {sum(s.rejected.values())}。"
        )
