"""The extension on its own (no Spark): answers by hand, and bad input named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phuso_spark import Areas

from conftest import ROOT

CASES = (ROOT / "tests" / "fixtures" / "join_cases.geojson").read_bytes()


def test_counts_by_hand_on_the_join_cases():
    a = Areas.from_geojson(CASES, "join_cases.geojson", "code")
    assert [c for c, _ in a.names()] == ["A", "B", "C"]
    # The points of tests/it/cli.rs: A twice (inside, on A's edge shared with B), outside (B's
    # hole), C, out of range, B; counted as tests/it/cli.rs expects of `phuso join`.
    lon = np.array([0.5, 1.0, 1.5, 5.5, 999.0, 1.25])
    lat = np.array([0.5, 0.5, 0.5, 5.5, 0.0, 0.25])
    assert a.count(lon, lat) == [2, 1, 1, 1, 0, 1]
    # Missing values (NaN) are invalid; a swapped point counts as swapped.
    # (0.2, 1.2) is in no area; (1.2, 0.2) is in B: swapped, and not counted in B.
    assert a.count(np.array([math.nan, 0.2]), np.array([0.5, 1.2])) == [0, 0, 0, 0, 1, 1]
    assert a.count(np.array([], dtype=np.float64), np.array([], dtype=np.float64)) == [0] * 6


def test_bad_input_is_named():
    bad = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"X"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}'
    with pytest.raises(ValueError, match=r'(?s)areas.geojson.*feature 0 \(code "X"\).*not closed: first position \[0, 0\] differs from last \[0, 1\]'):
        Areas.from_geojson(bad, "areas.geojson", "code")
    with pytest.raises(ValueError, match="not valid JSON"):
        Areas.from_geojson(b"{", "x.geojson", "code")
    a = Areas.from_geojson(CASES, "join_cases.geojson", "code")
    with pytest.raises(ValueError, match="lon has 2 values and lat 1"):
        a.count(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="lon: expected a float64 buffer"):
        a.count(np.array([1, 2], dtype=np.int32), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="2 slots for 3 areas; expected 6"):
        a.write_counts([1, 2], "/dev/null")


def test_counts_file_equals_phuso_join_format(tmp_path):
    a = Areas.from_geojson(CASES, "join_cases.geojson", "code")
    out = tmp_path / "c.csv"
    a.write_counts([2, 1, 1, 1, 0, 1], str(out))
    assert out.read_text() == (
        "code,name,count\nA,A,2\nB,B,1\nC,C,1\n_outside,in no area,1\n"
        "_swapped,in no area; inside one with lon and lat swapped,0\n"
        "_invalid,not a number or out of range,1\n"
    )


def test_index_bytes_round_trip_and_damage_is_named():
    a = Areas.from_geojson(CASES, "join_cases.geojson", "code")
    data = a.to_bytes()
    b = Areas.from_bytes(data)
    assert b.names() == a.names()
    assert b.to_bytes() == data
    lon = np.array([0.5, 1.0, 1.5, 5.5, 999.0, 1.25])
    lat = np.array([0.5, 0.5, 0.5, 5.5, 0.0, 0.25])
    assert b.count(lon, lat) == a.count(lon, lat) == [2, 1, 1, 1, 0, 1]
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="index bytes: its checksum does not match: the file is damaged"):
        Areas.from_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="index bytes: not an index file of this version of phuso"):
        Areas.from_bytes(CASES)
