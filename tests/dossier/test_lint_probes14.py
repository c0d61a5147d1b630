"""Rules added against lint14's probes (session 12): each case a valid card with one defect a rushed author or an
agent would write, beside a near miss that a real card writes and must pass."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.dossier.factories import make_card, sglang_package
from tests.dossier.test_lint_probes import _append, _codes, _lint, _project, _released


@pytest.mark.parametrize("text,code", [
    ("MergedColumn\u00adParallelLinear keeps its slots.", "D112"),  # a soft hyphen: invisible, a format character
    ("MergedColumnParallelLin\u0435ar keeps its slots.", "D114"),  # a Cyrillic e inside a Latin name
    ("#\uff13\uff14\uff17\uff16\uff13 replaced it.", "D114"),  # fullwidth digits: no PR number to a machine
    ("#3\u039f437 kept it off.", "D114"),  # a Greek capital omicron for a zero
    ("It reads fused_recurrent\u00a0gated_delta_rule.", "D114"),  # a no-break space splitting a name
    ("--speculative-dfl\u0430sh-block-size is read late.", "D114"),  # a Cyrillic a in a flag
    # near misses: a Greek letter as a word, a CJK bracket, a Latin accent in a name, plain ASCII
    ("The gate \u03b2 = sigmoid(b) is computed in registers.", None),
    ("The title quotes \u3010Bug\u3011 as the author wrote it.", None),
    ("Reviewer S\u00e9bastien asked for the BF16 path.", None),
    ("The decode step took 12.5 \u03bcs on H200 (author).", None),  # a Greek mu in a unit
    ("MergedColumnParallelLinear keeps its slots.", None),
])
def test_hidden_and_look_alike_characters_d112_d114(tmp_path, text, code):
    found = _codes(_project(tmp_path, _append("implementation", text)), select=["D112", "D114"])
    assert found == ([code] if code else []), found


def test_a_look_alike_in_the_key_match_is_d114(tmp_path):
    def edit(card):
        card["key_fragment"]["match"] = card["key_fragment"]["match"].replace(" = ", "\u00a0= ")
    assert _codes(_project(tmp_path, edit), select=["D114"]) == ["D114"]


@pytest.mark.parametrize("text,wrong", [
    ("It landed on 2026-03-12 after two review rounds.", True),  # probe s1 (#19321, merged 2026-03-20)
    ("The PR was merged in February 2026.", True),  # probe s2: a month
    ("#90 (merged in January 2026) had the same fix.", True),  # another card's month
    ("For the model itself (merged 2026-03-12) it changes no GEMM count.", True),  # probe s7: a clause naming no PR
    # near misses: the card's own day and month; a month of a PR without a card
    ("It landed on 2026-03-20 after two review rounds.", False),
    ("The PR was merged in March 2026; #4242 (merged in May 2025) has no card.", False),
    ("#90 (merged in March 2026) had the same fix.", False),
    ("The PR (merged 2026-03-20) renamed it; its revert (merged 2026-03-26) undid it.", False),
])
def test_own_merge_days_in_other_words_and_months_d406(tmp_path, text, wrong):
    root = _project(tmp_path, _append("implementation", text), [make_card(90, merged_at=dt.date(2026, 3, 26))])
    assert (_codes(root, select=["D406"]) == ["D406"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("This PR was merged two days before #90.", True),  # probe s3 (#21662 vs #21496): it merged 6 days before
    ("#90 (merged one day earlier) had the same fix.", True),  # #90 merged after #100
    ("It landed a week after #90.", True),  # the wrong direction
    ("Merged 2026-03-20, an hour after #91.", True),  # #91 merged days before
    # near misses (real: #10379's "#10233 (merged one day earlier)", #31942's "an hour after #30437")
    ("This PR was merged six days before #90.", False),
    ("This PR was merged a week before #90.", False),
    ("#92 (merged one day earlier) had the same fix.", False),
    ("Merged 2026-03-20, an hour after #93.", False),
])
def test_a_merge_given_relative_to_another_pr_agrees_with_both_cards_d406(tmp_path, text, wrong):
    others = [make_card(90, merged_at=dt.date(2026, 3, 26)), make_card(91, merged_at=dt.date(2026, 3, 10)),
              make_card(92, merged_at=dt.date(2026, 3, 19)), make_card(93, merged_at=dt.date(2026, 3, 20))]
    root = _project(tmp_path, _append("implementation", text), others)
    assert (_codes(root, select=["D406"]) == ["D406"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("This PR was closed in favour of #90.", True),  # probe s4: a merged card said closed
    ("The merged #91 had tried the same.", True),  # probe s9: a closed card said merged
    ("#91 (merged 2026-03-01) had tried the same.", True),
    ("The merged #90 kept it; #91 (closed) had tried the same.", False),
])
def test_a_pr_said_merged_or_closed_in_favour_agrees_with_its_card_d410(tmp_path, text, wrong):
    others = [make_card(90, merged_at=dt.date(2026, 3, 26)),
              make_card(91, state="closed", merged_at=None, status="adjacent")]
    root = _project(tmp_path, _append("implementation", text), others)
    assert bool(set(_codes(root, select=["D410", "D406"])) & {"D410"}) is wrong


def test_a_current_card_said_replaced_by_a_pr_is_d412(tmp_path):
    others = [make_card(90, merged_at=dt.date(2026, 3, 26))]
    root = _project(tmp_path / "bad", _append("implementation", "It was replaced by #90 in 0.5.14."), others)
    assert _codes(root, select=["D412"]) == ["D412"]
    ok = _project(tmp_path / "ok", _append("implementation", "#90 replaced the helper in the scheduler."), others)
    assert _codes(ok, select=["D412"]) == []


@pytest.mark.parametrize("title,text,wrong", [
    ("Fix the loader again", "", True),  # probe t1: a fix that replaced it is no revert
    ("Fix the loader: #77 had been reverted by #100", "", True),  # #100 reverted another PR; #90 does not revert it
    ('Revert "Fuse the widget projection in layer 100"', "", False),
    ("Fix the loader again", " It was reverted in #18910, which no source holds.", False),  # real: #16067
])
def test_a_reverted_card_names_its_revert_d413(tmp_path, title, text, wrong):
    successor = make_card(90, merged_at=dt.date(2026, 3, 26), title=title)
    successor["implementation"] += (" It undoes #100 on purpose." if title.startswith("Revert") else
                                    f" It fixes #100. {title.partition(': ')[2]}.")

    def edit(card):
        card.update(status="reverted", superseded_by=[90])
        card["implementation"] += " #90 came after." + text
    assert (_codes(_project(tmp_path, edit, [successor]), select=["D413"]) == ["D413"]) is wrong


@pytest.mark.parametrize("kind,path,wrong", [
    ("tests", "python/sglang/srt/layers/attention/linear/gdn_backend.py", True),  # probe f1
    ("docs", "python/sglang/srt/layers/attention/linear/gdn_backend.py", True),  # probe f2
    ("tests", "sgl-kernel/csrc/gdn/decode.cu", True),
    ("tests", "python/sglang/jit_kernel/tests/test_cutedsl_gdn.py", False),  # real
    ("tests", "test/registered/4-gpu-models/test_qwen35_models.py", False),
    ("tests", "scripts/ci/ci_install_deepep.sh", False),
    ("docs", "docs/docs/advanced_features/server_arguments.mdx", False),
])
def test_runtime_source_listed_as_a_test_or_doc_is_d325(tmp_path, kind, path, wrong):
    root = _project(tmp_path, lambda card: card["files"][kind].append(path))
    assert (_codes(root, select=["D325"]) == ["D325"]) is wrong


@pytest.mark.parametrize("field,end,wrong", [
    ("implementation", " so the second grid dimension is batch x local value", True),  # probe p1: cut off
    ("explain", " The kernel writes the", True),
    ("implementation", " (the launch is grid = (NV, B * HV))", False),
    ("motivation", " It was reported as issue 21638.", False),
])
def test_prose_cut_off_mid_sentence_is_d227(tmp_path, field, end, wrong):
    def edit(card):
        if field == "explain":
            card["key_fragment"]["explain"] = card["key_fragment"]["explain"].rstrip(".") + end
        else:
            card[field] = card[field].rstrip(".") + end
    assert (_codes(_project(tmp_path, edit), select=["D227"]) == ["D227"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("The author measured the decode step 140% shorter on H200 at batch 64.", True),  # probe r3
    ("On H200 (author) it cuts decode latency by 150%.", True),
    ("TTFT -120% on H200 at TP4 (PR description).", True),
    # near misses: rises, and falls within 100%
    ("Throughput +140% on H200 at TP4 (PR description).", False),
    ("On H200 (author) it runs 140% faster at batch 64.", False),
    ("On H200 (author) it cuts decode latency by 14%.", False),
])
def test_a_fall_of_more_than_all_of_it_is_d228(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("motivation", text)), select=["D228"]) == ["D228"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("The playbook files this under the gdn-decode lane.", True),  # probe p5
    ("See lane `gdn-kernel` for the decode checks.", True),
    ("The playbook files this under the gdn-projection lane.", False),
    ("The MTP lane and the scheduling lane model it; the nightly H100 lane runs it.", False),
])
def test_a_lane_id_the_playbook_lacks_is_d521(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D521"]) == ["D521"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("It is in every release from 0.1.0 on. That follow-up is #101.", True),  # probe s5 (a #N in the next sentence)
    ("The tuple shard id was first available in SGLang 0.1.0.", True),  # probe s6
    ("It is in every release from 0.2.0 on. That follow-up is #101.", False),
    ("The tuple shard id was first available in SGLang 0.2.0.", False),
])
def test_first_release_in_other_words_d319(tmp_path, text, wrong):
    found = [d for d in _lint(_released(tmp_path, text), select=["D319"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


@pytest.mark.parametrize("text,code", [
    ("As of my knowledge cutoff, this is still the default decode path.", "D211"),  # probe p8
    ("I'm not able to verify the benchmark numbers.", "D211"),  # probe p9
    ("\u2705 Reproduced on H200 by the author (PR description).", "D211"),  # probe p7: a pasted check mark
    ("The kernel is ```python\nfused(x)\n``` in the diff.", "D211"),  # probe p2: a code fence
    ("[Insert the benchmark table from the PR description here]", "D202"),  # probe p4
    # near misses: a quotation of the author, a bracketed list, plain prose
    ("The author wrote \"I'm not able to reproduce it on H100\" in the thread.", None),
    ("The layout is [all q | all k | all v] after the split.", None),
    ("The decode path writes the state back in place.", None),
])
def test_assistant_limits_emoji_fences_and_bracketed_instructions_d211_d202(tmp_path, text, code):
    found = _codes(_project(tmp_path, _append("implementation", text)), select=["D211", "D202"])
    assert found == ([code] if code else []), found


@pytest.mark.parametrize("text,wrong", [
    ("This project's dossier regress run of this card passed on an NVIDIA H100 on 2026-12-01.", True),  # probe r2
    ("Our regression job for this card ran on a B200.", True),
    ("This project's dossier regress run of this card passed on an NVIDIA H200 on 2026-12-01.", False),
    ("The author measured it on an H100; dossier regress runs the parity tests.", False),  # no GPU for our run? named
])
def test_this_cards_regression_run_names_the_gpu_its_result_records_d517(tmp_path, text, wrong):
    import json

    root = _project(tmp_path, _append("implementation", text))
    (root / "results" / "cuda").mkdir(parents=True)
    (root / "results" / "cuda" / "100.json").write_text(json.dumps({"pr": 100, "device": {"name": "NVIDIA H200"}}))
    assert (_codes(root, select=["D517"]) == ["D517"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("The author reported about 2.6% worse TTFT on H200 (PR description).", True),  # probe r4: claims say -2.6%
    ("The author reported TTFT +2.6% on H200 (PR description).", True),
    ("The author reported about 2.6% better TTFT on H200 (PR description).", False),  # real: #19321
    ("The author reported throughput about +2.6% on H200 (PR description).", False),
])
def test_one_change_given_as_a_gain_and_a_loss_is_d229(tmp_path, text, wrong):
    def edit(card):
        card["motivation"] += " " + text
        card["validation"]["claims"] = ["TTFT about -2.6% and throughput about +2.6% (PR description; H200, TP4)"]
    assert (_codes(_project(tmp_path, edit), select=["D229"]) == ["D229"]) is wrong


LINEAR = ("class MergedColumnParallelLinear:\n    def weight_loader(self, param, loaded_weight, loaded_shard_id):\n"
          "        if isinstance(loaded_shard_id, tuple):\n            sizes = self.output_sizes\n")
MODEL = ("class Qwen3GatedDeltaNet:\n    def create_qkvz_proj(self, key_dim, value_dim):\n"
         "        self.in_proj_qkvz = _make_packed_weight_loader(self.output_sizes, num_v_heads)\n"
         "        self.in_proj_ba = load_weights(in_proj_a, in_proj_b)\n")


@pytest.mark.parametrize("explain,wrong", [
    # probe f4: an explain of qwen3_next.py under a key fragment in linear.py (one shared name, output_sizes)
    ("In Qwen3GatedDeltaNet the new create_qkvz_proj builds in_proj_qkvz with output_sizes from key_dim and "
     "value_dim, and in_proj_ba gets two num_v_heads slots through _make_packed_weight_loader.", True),
    # near misses: the key file's own names, with a caller or two from the other file
    ("MergedColumnParallelLinear.weight_loader now asks whether loaded_shard_id is a tuple and then cuts the "
     "tensor by output_sizes; create_qkvz_proj in the model file relies on it for in_proj_qkvz.", False),
    ("The loader checks isinstance(loaded_shard_id, tuple) before it reads output_sizes of the merged layer, so a "
     "split checkpoint lands slot by slot.", False),
])
def test_an_explain_of_another_listed_file_is_d230(tmp_path, explain, wrong):
    tree = sglang_package(tmp_path / "site", {"srt/layers/linear.py": LINEAR, "srt/models/qwen3_next.py": MODEL})

    def edit(card):
        card["key_fragment"].update(file="python/sglang/srt/layers/linear.py",
                                    match="isinstance(loaded_shard_id, tuple)", explain=explain)
        card["files"]["runtime"] = ["python/sglang/srt/layers/linear.py", "python/sglang/srt/models/qwen3_next.py"]
    found = [d.code for d in _lint(_project(tmp_path / "p", edit), sglang_src=tree, select=["D230"])
             if d.file == "cards/100.yaml"]
    assert (found == ["D230"]) is wrong, found


@pytest.mark.parametrize("text,wrong", [
    ("The 0.1.0 wheel (built 2026-01-05) already carries it.", True),  # probe s10: a release built before the merge
    ("SGLang v0.1.0 includes this change.", True),
    ("The 0.2.0 wheel already carries it.", False),
    ("SGLang v0.3.0 includes this change.", False),
])
def test_a_release_said_to_carry_the_change_holds_its_line_d319(tmp_path, text, wrong):
    found = [d for d in _lint(_released(tmp_path, text), select=["D319"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


@pytest.mark.parametrize("text,wrong", [
    ("This PR supersedes #90.", True),  # probe x2: #90's card names no successor
    ("#91 was replaced by this PR.", True),  # #91's card names #92
    ("It reverted #93.", False),  # #93's card names #100
    ("#93 was superseded by this PR.", False),
])
def test_this_pr_said_to_replace_a_pr_whose_card_names_another_d412(tmp_path, text, wrong):
    others = [make_card(90, merged_at=dt.date(2026, 3, 1)),
              make_card(91, merged_at=dt.date(2026, 3, 1), status="superseded", superseded_by=[92]),
              make_card(92, merged_at=dt.date(2026, 3, 10)),
              make_card(93, merged_at=dt.date(2026, 3, 1), status="superseded", superseded_by=[100])]
    root = _project(tmp_path, _append("implementation", text), others)
    assert (_codes(root, select=["D412"]) == ["D412"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("Reviewer X asked for a test (comment of 2026-02-31).", True),  # probe s11
    ("Reviewer X asked for a test on 2026-02-30.", True),
    ("Reviewer X asked for a test (comment of 2026-02-28).", False),
])
def test_a_day_no_calendar_has_is_d411(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D411"]) == ["D411"]) is wrong
