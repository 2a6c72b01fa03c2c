"""Parts and spill files are data only (Arrow IPC + JSON) and give back the same frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.runner.codec import PartError, decode_payload, frame_from_ipc, frame_to_ipc


def test_frames_come_back_with_their_dtypes_and_values():
    df = pd.DataFrame({
        "replication": np.array([0, 0, 1], np.int32),
        "facility": np.array(["m1", None, "m2"], dtype=object),
        "committed_day": np.array([7, None, 14], dtype=object),
        "mixed": np.array([1.5, "x", None], dtype=object),
        "label": pd.Series(["a", "b", np.nan], dtype="str"),
        "value": [0.1, np.nan, 1e-300],
        "ok": [True, False, True],
        "date": pd.to_datetime(["2025-01-01", None, "2026-02-03"]).astype("datetime64[ns]"),
        "cat": pd.Categorical(["y", "x", "y"], categories=["y", "x", "z"]),
    })
    back = frame_from_ipc(frame_to_ipc(df))
    pd.testing.assert_frame_equal(back, df)
    assert [type(v) for v in back["committed_day"]] == [int, type(None), int]
    assert back.to_csv(index=False) == df.to_csv(index=False)
    empty = df.drop(columns="cat").iloc[:0]  # (an empty categorical loses its categories)
    pd.testing.assert_frame_equal(frame_from_ipc(frame_to_ipc(empty)), empty)


@pytest.mark.parametrize("data", [b"", b"\x80\x04K\x01.", b"CRITMIN-PART-2\n\0" + b"junk" * 4])
def test_anything_else_is_refused(data):
    with pytest.raises(PartError):
        decode_payload(data)
