"""Reading YAML fast without reading it otherwise: libyaml parses the manual's files, and text it reads unlike
PyYAML's own parser (whose positions and messages every finding quotes) goes to that parser; a tagged value its
type cannot read is a positioned D102 (a card) or a lock error, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dossier.cards import _composed, _FastLoader, read_yaml
from dossier.locks import LockError, read_lock_file
from tests.dossier.test_bad_input import card_path, dossier, root  # noqa: F401 (the fixture)

REAL = Path(__file__).resolve().parents[2]


def _both(path: Path, monkeypatch) -> tuple:
    """read_yaml's (data, positions, errors) with libyaml, then with the pure-Python parser alone."""
    seen = []
    for fast in (True, False):
        monkeypatch.setattr(yaml, "__with_libyaml__", fast)
        doc = read_yaml(path)
        seen.append((repr(doc.data), doc.positions, doc.read_errors))
    return tuple(seen)


def test_libyaml_reads_every_real_file_as_the_python_parser_does(monkeypatch):
    files = sorted((REAL / "cards").glob("*.yaml")) + sorted((REAL / "findings").glob("*.yaml"))
    assert len(files) > 150
    for path in files:
        fast, slow = _both(path, monkeypatch)
        assert fast == slow, path


@pytest.mark.parametrize(("text", "error"), [
    # libyaml takes `#` glued to a block header as a comment: the text's first line vanished from the manual
    ("pr: 100\nmotivation: >-#  First line of the motive.\n  Second line.\n",
     (2, 15, "expected chomping or indentation indicators, but found '#'")),
    ("pr: 100\nmotivation: |2#x\n  text.\n", (2, 15, "expected chomping or indentation indicators, but found '#'")),
    # libyaml reads `20? 8` as one value where PyYAML stops at the `?`
    ("pr: 100\nsuperseded_by: [20? 8]\n", (2, 19, "expected ',' or ']', but got '?'")),
    ("pr: 100\nsuperseded_by: [1,\n  20? 8]\n", (3, 5, "expected ',' or ']', but got '?'")),
    # libyaml ends a tag at a bracket, PyYAML reads the bracket into the tag
    ("pr: 100\nsuperseded_by: [!!int]\n", (3, 1, "expected ',' or ']', but got '<stream end>'")),
    # a tab libyaml skips
    ("pr: 100\ntitle: x\n\t\nlane: y\n", (3, 1, "found character '\\t' that cannot start any token")),
])
def test_text_libyaml_reads_otherwise_is_read_by_the_python_parser(tmp_path, monkeypatch, text, error):
    path = tmp_path / "100.yaml"
    path.write_text(text)
    fast, slow = _both(path, monkeypatch)
    assert fast == slow
    line, col, message = error
    assert fast[2] == [("D102", f"malformed YAML: {message}", line, col)]


def test_a_byte_order_mark_inside_a_key_keeps_the_python_parsers_columns(tmp_path, monkeypatch):
    """The two parsers count a U+FEFF's column apart: every later position on its line would move by one."""
    path = tmp_path / "100.yaml"
    path.write_text("pr: 100\nmoti\ufeffvation: text.\n")
    fast, slow = _both(path, monkeypatch)
    assert fast == slow and fast[1]["moti\ufeffvation#value"] == (2, 13)  # PyYAML counts it in no column


@pytest.mark.parametrize("tag", ["!!int", "!!float", "!!bool", "!!timestamp", "!!int x", "!!float x",
                                 "!!bool maybe", "!!timestamp soon"])
@pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "python"])
def test_a_tagged_value_its_type_cannot_read_is_a_positioned_d102(tmp_path, monkeypatch, tag, fast):
    """PyYAML raised IndexError (`!!int`, `!!float`), KeyError (`!!bool`) or AttributeError (`!!timestamp`) for
    an empty value: the read crashed instead of reporting the card."""
    monkeypatch.setattr(yaml, "__with_libyaml__", fast)
    path = tmp_path / "100.yaml"
    path.write_text(f"pr: 100\nsuperseded_by:\n  - {tag}\n")
    doc = read_yaml(path)
    name, _, value = tag.partition(" ")
    assert doc.data is None
    assert doc.read_errors == [("D102", f"malformed YAML: {value!r} is no {name} value", 3, 5)]


def test_lint_reports_an_empty_tagged_value_in_a_card(root):  # noqa: F811 (the fixture)
    card_path(root).write_bytes(b"pr: !!bool\ntitle: x\n")
    result = dossier(root, "lint")
    assert result.exit_code == 1 and "cards/100.yaml:1:5: D102 malformed YAML: '' is no !!bool value" \
        in result.output


@pytest.mark.parametrize("tag", ["!!int", "!!bool", "!!float", "!!timestamp"])
def test_a_lock_with_an_empty_tagged_value_is_a_lock_error(tmp_path, tag):
    path = tmp_path / "drift.lock"
    path.write_text(f"version: 1\nsglang: {tag}\ncards: {{}}\n")
    with pytest.raises(LockError) as caught:
        read_lock_file(path)
    assert str(caught.value).endswith(f"not valid YAML at line 2: '' is no {tag} value")


@pytest.mark.parametrize("text", ["!!bool", "!!int", "!!timestamp", "0b_", "0x_"])
def test_a_number_field_holding_a_tag_as_text_is_a_type_finding(root, text):  # noqa: F811 (the fixture)
    """The schema asked PyYAML how YAML 1.1 reads a number field's text ("0144": octal 100); a tag written as
    quoted text made that reading raise (KeyError, IndexError, AttributeError) instead of the field's finding, as
    did YAML 1.1's number pattern with no digit in it ("0b_": ValueError)."""
    raw = card_path(root).read_text().replace("superseded_by: []", f"superseded_by: ['{text}']")
    assert f"['{text}']" in raw
    card_path(root).write_text(raw)
    result = dossier(root, "lint")
    assert result.exit_code == 1
    assert f"cards/100.yaml:7:17: D106 superseded_by[0] must be an integer, got str '{text}'" in result.output



@pytest.mark.parametrize(("text", "fast"), [
    # a question in prose beside a link's brackets: no flow collection holds it (the manual's playbook, 300 kB,
    # went to the pure-Python parser for this, half a second a read)
    ("pr: 100\nmotivation: Why does [#12](pr-history.md#pr-12) stall? It waits.\n", True),
    ("pr: 100\nsuperseded_by: [101, 102]\nmotivation: >-\n  Was it [slow]? Yes.\n", True),
    # a `?` inside a flow collection, quoted, nested or aliased: the pure-Python parser reads it (bare, `[20? 8]`,
    # that parser's error is the finding's, above)
    ("pr: 100\nx: {a: ['why?', 1]}\n", False),
    ("pr: 100\nx: &a [1, {b: '?'}]\ny: *a\n", False),
])
def test_only_a_question_inside_a_flow_collection_leaves_libyaml(text, fast):
    loader, node = _composed(text)
    assert isinstance(loader, _FastLoader) is fast
    assert node is not None
