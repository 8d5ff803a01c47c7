"""The memory-type palette (graphs/render.py TYPE_COLOURS) stays distinct for colour-blind readers.

Each colour is simulated for protanopia, deuteranopia and tritanopia with Machado, Oliveira and
Fernandes' matrices (2009, severity 1.0, applied to linear sRGB), then every pair is compared in
CIELAB with CIEDE2000. The threshold, 7, is about three times the just-noticeable difference
(~2.3): two nodes side by side read as different colours, not as shades of one. Shapes stay a second
channel (test_graph_render.py)."""
import itertools
import math
import re

import pytest

from graphs import render
from tests.support.paths import ROOT

MIN_DELTA_E = 7.0
CANVASES = {"light": "#ffffff", "dark": "#1c2024"}  # --card in static/kb/site.css, the canvas
TEXT = {"light": "#1d2125", "dark": "#e6e8ea"}  # --fg: the rim graph.js draws round every shape
MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868),
                    (0.114503, 0.786281, 0.099216),
                    (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968),
                      (0.280085, 0.672501, 0.047413),
                      (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779),
                    (-0.078411, 0.930809, 0.147602),
                    (0.004733, 0.691367, 0.303900)),
}


def linear(hex_colour):
    channels = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def simulate(rgb, vision):
    if vision == "normal":
        return rgb
    return [min(max(sum(m * c for m, c in zip(row, rgb)), 0.0), 1.0) for row in MACHADO[vision]]


def lab(rgb):
    r, g, b = rgb
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b,
           0.0193 * r + 0.1192 * g + 0.9505 * b)
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
         for t in (xyz[0] / 0.95047, xyz[1], xyz[2] / 1.08883)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(lab1, lab2):
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1, h2 = math.degrees(math.atan2(b1, a1)) % 360, math.degrees(math.atan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_bar, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = (-math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2))))
           * 2 * math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def contrast(a, b):
    lum = [0.2126 * r + 0.7152 * g + 0.0722 * bl for r, g, bl in (linear(a), linear(b))]
    high, low = max(lum), min(lum)
    return (high + 0.05) / (low + 0.05)


def test_ciede2000_matches_sharmas_reference_pairs():
    """Two pairs of Sharma, Wu and Dalal's published test data, so the formula above is the real one."""
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def test_machado_keeps_grey_grey_and_merges_red_and_green_for_deuteranopes():
    grey = linear("#777777")
    assert all(ciede2000(lab(simulate(grey, v)), lab(grey)) < 1 for v in MACHADO)
    red, green = linear("#cc0000"), linear("#669900")
    normal = ciede2000(lab(red), lab(green))
    assert ciede2000(lab(simulate(red, "deuteranopia")), lab(simulate(green, "deuteranopia"))) < normal / 3


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_every_pair_of_type_colours_is_distinct(vision):
    seen = {t: lab(simulate(linear(c), vision)) for t, c in render.TYPE_COLOURS.items()}
    close = [(a, b, round(ciede2000(seen[a], seen[b]), 1)) for a, b in itertools.combinations(seen, 2)
             if ciede2000(seen[a], seen[b]) < MIN_DELTA_E]
    assert not close, f"type colours too close under {vision}: {close}"


@pytest.mark.parametrize("theme", CANVASES)
def test_type_colours_show_on_both_canvases_inside_a_rim_that_has_3_to_1(theme):
    low = {t: round(contrast(c, CANVASES[theme]), 2) for t, c in render.TYPE_COLOURS.items()
           if contrast(c, CANVASES[theme]) < 2}
    assert not low, low
    assert contrast(TEXT[theme], CANVASES[theme]) >= 3


def test_type_badges_text_has_4_5_to_1():
    css = (ROOT / "static/kb/site.css").read_text()
    rule = re.search(r"\.type-badge:is\(([^)]*)\)\s*\{\s*color:\s*(#[0-9a-f]{6})", css)
    dark = {name.strip().removeprefix(".t-") for name in rule.group(1).split(",")}
    for memory_type, colour in render.TYPE_COLOURS.items():
        text = rule.group(2) if memory_type in dark else "#ffffff"
        assert contrast(text, colour) >= 4.5, (memory_type, colour, text)
