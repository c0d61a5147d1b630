"""runtime.benchkit's results documents: standard JSON whatever a benchmark measured."""

import json
import math

from runtime.benchkit import resummarize, write_results


def _strict(text: str) -> dict:
    """json.loads as a standard reader (jq, JavaScript) reads: NaN and Infinity are no JSON."""

    def refuse(word: str):
        raise ValueError(f"{word} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_number_json_cannot_hold_is_written_as_null_and_listed_by_its_field(tmp_path, capsys):
    """A broken kernel's NaN error (results/bench/projections-decode-sweep-cluster2.json holds two) was written as
    `NaN`, which no standard reader takes: the document holds null there, and `not_finite` says what it was."""
    rows = [{"tp": 1, "us": 4.6, "rel_err": 0.01}, {"tp": 4, "us": 4.7, "rel_err": float("nan")},
            {"tp": 8, "us": float("inf"), "x": [1.0, float("-inf")]}]
    path = write_results(tmp_path / "b.json", "fakeref", rows, {"copy_gbs": 4000.0})
    doc = _strict(path.read_text())
    assert doc["rows"][1]["rel_err"] is None and doc["rows"][2]["us"] is None and doc["rows"][2]["x"] == [1.0, None]
    assert doc["not_finite"] == {"rows[1].rel_err": "NaN", "rows[2].us": "Infinity", "rows[2].x[1]": "-Infinity"}
    assert math.isnan(rows[1]["rel_err"])  # the caller's rows are left as they are
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path}: 3 number(s) JSON cannot hold, written as null and listed under "
                          "not_finite: rows[1].rel_err NaN, rows[2].us Infinity, rows[2].x[1] -Infinity")
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_a_document_without_such_numbers_has_no_not_finite_field(tmp_path, capsys):
    path = write_results(tmp_path / "b.json", "fakeref", [{"us": 1.0}])
    assert "not_finite" not in _strict(path.read_text()) and capsys.readouterr().err == ""


def test_resummarize_writes_an_old_document_holding_nan_back_as_standard_json(tmp_path):
    path = tmp_path / "old.json"
    path.write_text('{"lane": "fakeref", "device": {"name": "cpu"}, "rows": [{"us": NaN}, {"us": 2.0}]}')
    assert resummarize(path, lambda rows: [f"{len(rows)} rows"]) == ["2 rows"]
    doc = _strict(path.read_text())
    assert doc["rows"][0]["us"] is None and doc["not_finite"] == {"rows[0].us": "NaN"} and doc["summary"] == ["2 rows"]
