"""The HJ 212-2017 listener: a TCP server that takes the packets of online stations, stores their minute, hour
and day values, and answers where the protocol asks (``manage.py hj212_listen --port N``; docs/deploy.md runs it
under systemd).

- Connections are read by one thread each; a frame ends with CR LF (a longer line than MAX_LINE is thrown away).
- A frame with a bad header or length, a bad CRC, an unknown MN (no active station has it), a wrong password (a
  station with one set) or an unreadable data area is refused: logged, counted per day, reason and MN
  (``RejectedPackets``, shown on the stations page) and never stored as data or answered.
- A good packet updates its station's last-seen time; minute (CN 2051), hour (2061) and day (2031) data are
  stored, one row per pollutant (``MinuteValue``, ``HourValue``, ``DayValue``), a packet sent again replacing
  its rows (the unique (station, parameter, time)); real-time data (2011) update the station's latest values.
  Pollutant codes the library does not know are skipped (counted).
- One writer thread stores what the connections queue, in batches (one transaction per batch), and only then
  sends the answers (CN 9014) the packets asked for: a station that gets no answer sends again.
- Every MONITORING_LISTENER_EVALUATE_SECONDS the writer judges the outfalls whose hour or day values arrived
  (monitoring/exceedances.py).
"""

import logging
import queue
import socketserver
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from . import protocol

logger = logging.getLogger("outfalls.monitoring.hj212")
MAX_LINE = 8192
READ_BYTES = 65536
FLOW_CODE = "FLOW"
LITRES_PER_SECOND = 3.6  # HJ 212 reports flow in L/s; the platform keeps m³/h


@dataclass
class Stats:
    connections: int = 0
    frames: int = 0
    stored_packets: int = 0
    stored_values: int = 0
    answers: int = 0
    unknown_codes: int = 0
    rejected: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name, n=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def reject(self, reason):
        with self.lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1


@dataclass
class Item:
    packet: object = None  # protocol.Packet
    station: object = None  # (id, outfall_id, section_id)
    reply: object = None  # callable(bytes) or None
    reject: tuple = None  # (reason, mn, peer, raw text)
    done: threading.Event = None


class _Stations:
    """MN → (station id, outfall id, section id, password), reread at most every REFRESH seconds on a miss."""

    REFRESH = 30.0

    def __init__(self):
        self.by_mn = {}
        self.loaded = 0.0
        self.lock = threading.Lock()

    def _load(self):
        from ..models import Station

        rows = (
            Station.objects.filter(active=True)
            .exclude(mn=None)
            .values_list("mn", "pk", "outfall_id", "section_id", "password")
        )
        self.by_mn = {mn: (pk, outfall, section, password) for mn, pk, outfall, section, password in rows}
        self.loaded = time.monotonic()

    def get(self, mn):
        with self.lock:
            found = self.by_mn.get(mn)
            if found is None and time.monotonic() - self.loaded > self.REFRESH:
                self._load()
                found = self.by_mn.get(mn)
            return found

    def reload(self):
        with self.lock:
            self._load()


class Listener:
    def __init__(self, host="0.0.0.0", port=0, *, batch_size=500, batch_seconds=0.2, evaluate_seconds=None):
        self.stats = Stats()
        self.stations = _Stations()
        self.queue = queue.Queue()
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.evaluate_seconds = (
            settings.MONITORING_LISTENER_EVALUATE_SECONDS if evaluate_seconds is None else evaluate_seconds
        )
        self._stop = threading.Event()
        self._dirty = set()
        self._last_evaluation = time.monotonic()
        listener = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                listener._serve_connection(self.request, self.client_address)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.writer = threading.Thread(target=self._write_loop, name="hj212-writer", daemon=True)
        self.parameters = None

    @property
    def address(self):
        return self.server.server_address

    def start(self):
        """Serve in background threads (tests, the benchmark); stop() ends them."""
        self.stations.reload()
        self.writer.start()
        threading.Thread(target=self.server.serve_forever, name="hj212-accept", daemon=True).start()
        return self

    def serve_forever(self):
        """Serve in this thread until stop() (the management command)."""
        self.stations.reload()
        self.writer.start()
        try:
            self.server.serve_forever()
        finally:
            self.stop()

    def stop(self):
        if self._stop.is_set():
            return
        self.server.shutdown()
        self.server.server_close()
        self._stop.set()
        self.writer.join(timeout=10)

    # Connections ---------------------------------------------------------------------------------------------
    def _serve_connection(self, sock, address):
        try:
            self._read_connection(sock, address)
        finally:
            connection.close()  # this thread's own, opened when an unknown MN made it reread the stations

    def _read_connection(self, sock, address):
        self.stats.add("connections")
        peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
        lock = threading.Lock()

        def reply(data):
            with lock:
                try:
                    sock.sendall(data)
                except OSError:
                    pass

        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = sock.recv(READ_BYTES)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            while True:
                end = buffer.find(protocol.TRAILER)
                if end < 0:
                    if len(buffer) > MAX_LINE:
                        self._refuse("bad_frame", "", peer, buffer[:300], "超长且无结束符")
                        buffer = b""
                    break
                line, buffer = buffer[:end], buffer[end + 2 :]
                if line.strip():
                    self._take(line, peer, reply)

    def _take(self, line, peer, reply):
        self.stats.add("frames")
        start = line.find(protocol.HEADER)
        if start > 0:  # noise before the header (a modem's greeting): the frame starts at ##
            line = line[start:]
        try:
            packet = protocol.parse_frame(line)
        except protocol.FrameError as error:
            self._refuse(error.reason, error.mn, peer, line, str(error))
            return
        station = self.stations.get(packet.mn)
        if station is None:
            self._refuse("unknown_mn", packet.mn, peer, line, "未登记的 MN")
            return
        if station[3] and packet.pw != station[3]:
            self._refuse("bad_password", packet.mn, peer, line, "访问密码错误")
            return
        self.queue.put(Item(packet=packet, station=station[:3], reply=reply if packet.answer_asked else None))

    def _refuse(self, reason, mn, peer, raw, why):
        self.stats.reject(reason)
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
        logger.warning("HJ 212 packet refused (%s) from %s, MN %s: %s", reason, peer, mn or "-", why)
        self.queue.put(Item(reject=(reason, mn[:64], peer[:64], text[:300])))

    # The writer ----------------------------------------------------------------------------------------------
    def flush(self, timeout=10.0):
        """Wait until everything queued so far is written (tests, the benchmark)."""
        event = threading.Event()
        self.queue.put(Item(done=event))
        return event.wait(timeout)

    def _write_loop(self):
        try:
            while not (self._stop.is_set() and self.queue.empty()):
                batch = self._next_batch()
                if batch:
                    self._write(batch)
                self._maybe_evaluate()
        finally:
            connection.close()

    def _next_batch(self):
        try:
            first = self.queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_seconds
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _parameters(self):
        if self.parameters is None:
            from ..models import Parameter

            self.parameters = {p.hj212_code: p for p in Parameter.objects.exclude(hj212_code="")}
        return self.parameters

    def _write(self, batch):
        from .. import partitions
        from ..models import GRAIN_MODELS, RejectedPackets, Station

        close_old_connections()
        parameters = self._parameters()
        rows = {grain: [] for grain in GRAIN_MODELS}
        seen, latest, data_times, rejects = {}, {}, {}, {}
        now = timezone.now()
        stored = 0
        for item in batch:
            if item.reject is not None:
                reason, mn, peer, text = item.reject
                key = (timezone.localdate(now), reason, mn)
                entry = rejects.setdefault(key, [0, peer, text])
                entry[0] += 1
                entry[1], entry[2] = peer, text
                continue
            if item.packet is None:
                continue
            packet, (station_id, outfall_id, section_id) = item.packet, item.station
            seen[station_id] = now
            grain = protocol.GRAINS.get(packet.cn)
            at = timezone.make_aware(packet.data_time) if packet.data_time is not None else None
            if packet.cn == protocol.REALTIME and at is not None:
                latest[station_id] = {
                    code: entry.get("Rtd")
                    for code, entry in packet.values.items()
                    if entry.get("Rtd") is not None
                }
                data_times[station_id] = max(at, data_times.get(station_id, at))
            if grain is None or at is None:
                continue
            for code, entry in packet.values.items():
                parameter = parameters.get(code)
                if parameter is None:
                    self.stats.add("unknown_codes")
                    continue
                scale = LITRES_PER_SECOND if parameter.code == FLOW_CODE else 1.0
                rows[grain].append(
                    GRAIN_MODELS[grain](
                        station_id=station_id,
                        outfall_id=outfall_id,
                        section_id=section_id,
                        parameter=parameter,
                        at=at,
                        avg=_scaled(entry.get("Avg", entry.get("Rtd")), scale),
                        min=_scaled(entry.get("Min"), scale),
                        max=_scaled(entry.get("Max"), scale),
                        cou=entry.get("Cou"),
                        flag=entry.get("Flag", ""),
                    )
                )
            data_times[station_id] = max(at, data_times.get(station_id, at))
            if grain in ("hour", "day") and outfall_id is not None:
                self._dirty.add(outfall_id)
            stored += 1
        try:
            with transaction.atomic():
                for grain, objects in rows.items():
                    if not objects:
                        continue
                    model = GRAIN_MODELS[grain]
                    partitions.ensure_for(model, {o.at for o in objects})
                    model.objects.bulk_create(
                        _last_of_each(objects),
                        batch_size=1000,
                        update_conflicts=True,
                        unique_fields=["station", "parameter", "at"],
                        update_fields=["avg", "min", "max", "cou", "flag"],
                    )
                    self.stats.add("stored_values", len(objects))
                for station_id, when in seen.items():
                    Station.objects.filter(pk=station_id).update(last_seen_at=when)
                for station_id, when in data_times.items():
                    Station.objects.filter(pk=station_id).exclude(last_data_at__gte=when).update(
                        last_data_at=when
                    )
                for station_id, values in latest.items():
                    Station.objects.filter(pk=station_id).update(latest=values)
                for (day, reason, mn), (count, peer, text) in rejects.items():
                    updated = RejectedPackets.objects.filter(day=day, reason=reason, mn=mn).update(
                        count=F("count") + count, last_at=now, peer=peer, last_packet=text
                    )
                    if not updated:
                        RejectedPackets.objects.create(
                            day=day,
                            reason=reason,
                            mn=mn,
                            count=count,
                            last_at=now,
                            peer=peer,
                            last_packet=text,
                        )
        except Exception:
            logger.exception(
                "HJ 212 writer: a batch of %s packets could not be stored (not answered)", len(batch)
            )
        else:
            self.stats.add("stored_packets", stored)
            for item in batch:
                if item.reply is not None:
                    item.reply(protocol.answer(item.packet))
                    self.stats.add("answers")
        for item in batch:
            if item.done is not None:
                item.done.set()

    def _maybe_evaluate(self):
        if not self.evaluate_seconds or not self._dirty:
            return
        if time.monotonic() - self._last_evaluation < self.evaluate_seconds:
            return
        from .. import exceedances

        ids, self._dirty = sorted(self._dirty), set()
        self._last_evaluation = time.monotonic()
        try:
            exceedances.evaluate(ids)
        except Exception:
            logger.exception("HJ 212 writer: evaluating %s outfalls failed", len(ids))


def _scaled(value, scale):
    return None if value is None else value * scale


def _last_of_each(objects):
    """One row per (station, parameter, time): a packet sent twice in one batch keeps its last values (a
    database refuses two rows of one key in one INSERT … ON CONFLICT)."""
    unique = {}
    for o in objects:
        unique[(o.station_id, o.parameter_id, o.at)] = o
    return list(unique.values())
