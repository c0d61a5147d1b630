"""The GPU generations prose names and the architectures each takes in: one vocabulary for D241 (a generation
against the matched line's sm_major test) and D246 (a generation against the PR's record)."""

from __future__ import annotations

import re

#: a generation word as prose writes it: "Hopper", "Blackwell", "SM90a", "SM 100", "SM10x", "SM100+", "gfx950"
GENERATION = r"Hopper|Blackwell|Ampere|SM ?(?:80|90a?|10[03x]a?|120)\+?|gfx9(?:42|50|4|5)\b"
#: the architectures a generation's name takes in (Blackwell: the data-center SM100 parts and the SM120 ones)
NAMED = {"ampere": ("sm80",), "hopper": ("sm90",), "blackwell": ("sm100", "sm120")}
#: the CUDA architectures in order, with their compute-capability majors
CUDA = {"sm80": 8, "sm90": 9, "sm100": 10, "sm120": 12}


def covers(word: str) -> set[str]:
    """The architectures a generation word takes in: "Hopper" {sm90}, "Blackwell" {sm100, sm120}, "SM10x" {sm100},
    "SM100+" {sm100, sm120} (a "+" takes every later CUDA architecture), "gfx95" {gfx950}; none for another word."""
    key = word.lower().replace(" ", "")
    if key in NAMED:
        return set(NAMED[key])
    if key.startswith("gfx94"):
        return {"gfx942"}
    if key.startswith("gfx95"):
        return {"gfx950"}
    m = re.fullmatch(r"sm(\d{2,3}|\d\dx)a?(\+?)", key)
    if m is None:
        return set()
    major = int(m.group(1)[:-1]) if m.group(1).endswith("x") else int(m.group(1)) // 10
    return {a for a, n in CUDA.items() if n == major or (m.group(2) and n > major)}


def named_majors(name: str) -> frozenset[int]:
    """The compute-capability majors of a generation's name ("Blackwell": 10 and 12)."""
    return frozenset(CUDA[a] for a in NAMED[name.lower()])
