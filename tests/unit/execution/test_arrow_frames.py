"""Frames crossing to a worker process as Arrow, in one process."""

from __future__ import annotations


def test_frames_cross_as_arrow_and_come_back_as_they_left() -> None:
    """pack/unpack keep each kind of frame and its column types; other values pass as
    they are; run_task sends the user's error back as text with their frames."""
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    from dbt_braid.core.loader import FunctionRef
    from dbt_braid.execution.compute import ComputeTask, Packed, pack, run_task, unpack

    frame = pd.DataFrame({"d": pd.to_datetime(["2026-01-01", "2026-01-02"]), "x": [1.5, None],
                          "s": ["a", "b"], "i": [1, 2]})
    for value in (frame, pl.from_pandas(frame), pa.Table.from_pandas(frame)):
        packed = pack(value)
        assert isinstance(packed, Packed)
        back = unpack(packed)
        assert type(back) is type(value)
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(back, value)
        else:
            assert back.equals(value)
    assert pack({"n": 1}) == {"n": 1} and unpack([1, 2]) == [1, 2]

    def divide(a: pd.DataFrame) -> float:
        return float(a["i"].sum()) / 0

    outcome = run_task(ComputeTask("k", "divide", FunctionRef.of(divide),
                                   {"a": pack(frame)}))
    assert outcome.error == "ZeroDivisionError: float division by zero"
    assert outcome.traceback and "in divide" in outcome.traceback
    assert "run_task" not in outcome.traceback  # braid's own frames are left out
