"""The bench chart draws each comparison to scale and leaves out one whose figures are missing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bench import chart


def test_bars_are_to_scale_and_incomplete_charts_are_left_out(tmp_path):
    target = tmp_path / "r.svg"
    drawn = chart.draw({"sandbox.match50_batched_ms": 1.0, "sandbox.match50_naive_ms": 4.0}, target)
    assert drawn
    svg = target.read_text()
    ET.fromstring(svg)  # well-formed
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', svg)]
    assert len(widths) == 2 and abs(widths[1] / widths[0] - 4.0) < 0.01
    assert "quagga" not in svg


def test_nothing_to_draw(tmp_path):
    assert chart.draw({}, tmp_path / "r.svg") is False
    assert not (tmp_path / "r.svg").exists()
