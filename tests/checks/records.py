"""Constructed recordings: plain ``RequestRecord`` data as the prober would have written it."""

from __future__ import annotations

from collections.abc import Callable

from pytest_azchaos.traffic.recording import Recording, RequestRecord


def recording(n: int, rate: float = 10.0, wall_start: float = 0.0,
              shape: Callable[[int, float], dict[str, object]] | None = None) -> Recording:
    """``n`` requests at ``rate``/s; ``shape(seq, due)`` gives each record's fields beyond the defaults."""
    rec = Recording(wall_start=wall_start, rate=rate)
    for i in range(n):
        due = i / rate
        fields: dict[str, object] = {"status": 200, "pod": f"echo-{i % 3}", "client_ip": "127.0.0.99",
                                     "local_ip": "127.0.0.99"}
        fields.update(shape(i, due) if shape else {})
        latency = float(fields.pop("latency", 0.002))  # type: ignore[arg-type]
        rec.add(RequestRecord(i, due, due, latency, "127.200.0.1:80", **fields))  # type: ignore[arg-type]
    return rec


def failed(error: str = "reset", detail: str = "ConnectionResetError: [Errno 104] Connection reset by peer"
           ) -> dict[str, object]:
    return {"status": None, "error": error, "detail": detail, "pod": None, "client_ip": None}
