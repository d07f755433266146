"""The compositor profile charges each function with the CPU its thread spent in it: a
function that waits (on another thread, a lock, a busy machine) shows its wall time in the
profile's wall figure only, not in its rows."""

from __future__ import annotations

import cProfile
import threading
import time

from bench.throughput_stages import cpu_profile

WAIT = 0.3


def waits_on_a_busy_thread() -> None:
    """Wall time without CPU in this thread, while another thread of the process burns CPU."""
    stop = time.monotonic() + WAIT

    def burn() -> None:
        while time.monotonic() < stop:
            pass

    worker = threading.Thread(target=burn)
    worker.start()
    worker.join()


def test_rows_are_this_threads_cpu_and_the_process_counts_the_others() -> None:
    """The waiting function's own time is CPU (near zero), its wall time is in ms_per_frame,
    and the other thread's CPU appears only in process_cpu_ms_per_frame."""

    def run(profiler: cProfile.Profile) -> float:
        began = time.perf_counter()
        profiler.enable()
        waits_on_a_busy_thread()
        profiler.disable()
        return time.perf_counter() - began

    result = cpu_profile(run, frames=1)
    rows = {row["function"].rsplit("(", 1)[-1]: row for row in result["cumulative"] + result["own"]}
    waiting = next(row for name, row in rows.items() if name.startswith("waits_on_a_busy_thread"))
    assert result["ms_per_frame"] >= 1000 * WAIT * 0.9
    # A wall-clock profiler charged the join with the whole wait (about 300 ms).
    assert waiting["cumtime_ms_per_frame"] < 1000 * WAIT / 3
    assert result["thread_cpu_ms_per_frame"] < 1000 * WAIT / 3
    assert result["process_cpu_ms_per_frame"] > result["thread_cpu_ms_per_frame"] + 10
