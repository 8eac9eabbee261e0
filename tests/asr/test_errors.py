"""Word-level error analysis (dl_roadmap.asr.errors): per-utterance table, error counts,
corpus summary, report figures."""

from __future__ import annotations

import io
import math

import jiwer
import pandas as pd
import pytest
from matplotlib.figure import Figure

from dl_roadmap.asr.errors import (
    COUNT_COLUMNS,
    UTTERANCE_COLUMNS,
    error_counts,
    error_summary,
    top_errors_figure,
    utterance_table,
    wer_comparison_figure,
)

REFERENCES = [
    "turn the red light on",
    "open the door",
    "play some music",
    "set a timer for ten minutes",
]
HYPOTHESES = [
    "turn a red light",  # the -> a, on deleted
    "open the the door",  # "the" inserted
    "play some music",  # correct
    "set the timer for two minutes please",  # a -> the, ten -> two, "please" inserted
]


def manifest_rows(references: list[str]) -> list[dict]:
    return [{"audio_filepath": f"audio/{i}.wav", "text": text, "duration": 1.0 + i}
            for i, text in enumerate(references)]


def as_tuples(frame: pd.DataFrame) -> list[tuple[str, str, str, int]]:
    return [(k, r, h, int(n)) for k, r, h, n in frame[COUNT_COLUMNS].itertuples(index=False)]


# --- utterance_table -----------------------------------------------------------------------


def test_table_counts_a_hand_aligned_utterance() -> None:
    table = utterance_table([{"audio_filepath": "a.wav", "text": "turn the red light on", "duration": 2.5}],
                            ["turn a red light"])
    assert list(table.columns) == UTTERANCE_COLUMNS
    line = table.iloc[0]
    assert (line.words, line.substitutions, line.deletions, line.insertions, line.errors) == (5, 1, 1, 0, 2)
    assert line.wer == pytest.approx(2 / 5)
    assert line.duration == 2.5
    assert line.cer == pytest.approx(jiwer.cer("turn the red light on", "turn a red light"))


def test_table_lines_follow_rows_and_match_jiwer_per_utterance() -> None:
    table = utterance_table(manifest_rows(REFERENCES), HYPOTHESES)
    assert list(table.audio_filepath) == [f"audio/{i}.wav" for i in range(4)]
    assert list(table.insertions) == [0, 1, 0, 1]
    assert list(table.substitutions) == [1, 0, 0, 2]
    assert list(table.errors) == list(table.substitutions + table.deletions + table.insertions)
    for line in table.itertuples():
        assert line.wer == pytest.approx(jiwer.wer(line.reference, line.hypothesis))
    assert table.loc[2, "wer"] == 0.0 and table.loc[2, "cer"] == 0.0


def test_whitespace_is_collapsed_before_aligning() -> None:
    table = utterance_table([{"audio_filepath": "a.wav", "text": "  open\tthe   door \n"}], ["open  the door"])
    assert table.loc[0, "reference"] == "open the door"
    assert table.loc[0, "hypothesis"] == "open the door"
    assert table.loc[0, "errors"] == 0 and table.loc[0, "cer"] == 0.0
    assert math.isnan(table.loc[0, "duration"])  # no duration in the row


def test_empty_hypothesis_is_all_deletions() -> None:
    table = utterance_table([{"audio_filepath": "a.wav", "text": "open the door"}], [""])
    line = table.iloc[0]
    assert (line.deletions, line.substitutions, line.insertions) == (3, 0, 0)
    assert line.wer == 1.0 and line.cer == 1.0


def test_empty_reference_counts_insertions_without_dividing_by_zero() -> None:
    table = utterance_table([{"audio_filepath": "a.wav", "text": ""}, {"audio_filepath": "b.wav", "text": "  "}],
                            ["hello there", ""])
    assert list(table.words) == [0, 0]
    assert list(table.insertions) == [2, 0]
    assert list(table.wer) == [2.0, 0.0]
    assert table.loc[1, "cer"] == 0.0


def test_mismatched_lengths_name_both_counts() -> None:
    with pytest.raises(ValueError, match=r"3 references but 2 hypotheses"):
        utterance_table(manifest_rows(["a", "b", "c"]), ["a", "b"])
    with pytest.raises(ValueError, match=r"1 references but 2 hypotheses"):
        error_counts(["a"], ["a", "b"])


def test_row_without_reference_is_rejected() -> None:
    with pytest.raises(ValueError, match="no 'text'"):
        utterance_table([{"audio_filepath": "a.wav"}], ["x"])


def test_table_accepts_a_dataframe_of_rows() -> None:
    frame = pd.DataFrame(manifest_rows(REFERENCES))
    assert utterance_table(frame, HYPOTHESES).equals(utterance_table(manifest_rows(REFERENCES), HYPOTHESES))


# --- error_counts --------------------------------------------------------------------------


def test_counts_of_the_hand_aligned_example() -> None:
    counts = error_counts(["turn the red light on"], ["turn a red light"])
    assert list(counts.columns) == COUNT_COLUMNS
    assert as_tuples(counts) == [("deletion", "on", "", 1), ("substitution", "the", "a", 1)]


def test_insertions_are_counted_with_empty_reference() -> None:
    counts = error_counts(["open the door", "yes"], ["open the the door", "yes yes please"])
    assert as_tuples(counts) == [("insertion", "", "please", 1), ("insertion", "", "the", 1),
                                 ("insertion", "", "yes", 1)]


def test_multi_word_substitution_is_paired_in_order() -> None:
    # jiwer aligns this as a single substitute chunk of three words.
    output = jiwer.process_words("a b c d", "x y z d")
    assert [(c.type, c.ref_end_idx - c.ref_start_idx) for c in output.alignments[0]][0] == ("substitute", 3)
    counts = error_counts(["a b c d"], ["x y z d"])
    assert set(as_tuples(counts)) == {("substitution", "a", "x", 1), ("substitution", "b", "y", 1),
                                      ("substitution", "c", "z", 1)}


def test_counts_sum_to_the_corpus_totals_and_are_sorted() -> None:
    refs = ["the cat sat", "the cat ran", "a cat sat", "the dog sat"]
    hyps = ["a cat sat", "a cat ran", "a cat", "a dog sat hey"]
    counts = error_counts(refs, hyps)
    totals = counts.groupby("kind")["count"].sum().to_dict()
    output = jiwer.process_words(refs, hyps)
    assert totals == {"substitution": output.substitutions, "deletion": output.deletions,
                      "insertion": output.insertions}
    assert as_tuples(counts) == [
        ("substitution", "the", "a", 3),
        ("deletion", "sat", "", 1),
        ("insertion", "", "hey", 1),
    ]


def test_ties_are_broken_by_kind_reference_hypothesis() -> None:
    counts = error_counts(["b a", "d c", "x"], ["b z", "d y", "x q"])
    assert as_tuples(counts) == [("insertion", "", "q", 1), ("substitution", "a", "z", 1),
                                 ("substitution", "c", "y", 1)]
    # Same input, shuffled: same order out.
    assert counts.equals(error_counts(["x", "d c", "b a"], ["x q", "d y", "b z"]))


def test_top_keeps_the_most_frequent_per_kind() -> None:
    refs = ["one two three"] * 3 + ["four five"] * 2 + ["six"]
    hyps = ["won two three"] * 3 + ["for five"] * 2 + ["sex"]
    refs += ["alpha beta", "alpha beta"]
    hyps += ["alpha", "alpha gamma"]  # beta deleted once, substituted once
    counts = error_counts(refs, hyps, top=2)
    subs = counts[counts.kind == "substitution"]
    assert as_tuples(subs) == [("substitution", "one", "won", 3), ("substitution", "four", "for", 2)]
    assert as_tuples(counts[counts.kind == "deletion"]) == [("deletion", "beta", "", 1)]
    assert list(counts["count"]) == sorted(counts["count"], reverse=True)
    assert error_counts(refs, hyps, top=0).empty
    with pytest.raises(ValueError, match="top"):
        error_counts(refs, hyps, top=-1)


def test_no_errors_gives_an_empty_frame_with_the_columns() -> None:
    for refs, hyps in ((["open the door"], [" open the door "]), ([], [])):
        counts = error_counts(refs, hyps)
        assert counts.empty and list(counts.columns) == COUNT_COLUMNS


# --- error_summary -------------------------------------------------------------------------


def test_summary_totals_match_the_table_and_jiwer() -> None:
    table = utterance_table(manifest_rows(REFERENCES), HYPOTHESES)
    summary = error_summary(table)
    for column in ("substitutions", "deletions", "insertions", "words"):
        assert summary[column] == table[column].sum()
    assert summary["utterances"] == 4
    assert summary["wer"] == pytest.approx(jiwer.wer(REFERENCES, HYPOTHESES))
    assert summary["wer"] == pytest.approx(table.errors.sum() / table.words.sum())
    assert summary["cer"] == pytest.approx(jiwer.cer(REFERENCES, HYPOTHESES))
    assert summary["sentence_error_rate"] == pytest.approx(3 / 4)


def test_corpus_wer_weighs_by_words_not_by_utterance() -> None:
    # A one-word miss and a perfect ten-word line: mean per-line WER is 0.5, corpus WER 1/11.
    table = utterance_table(manifest_rows(["yes", "one two three four five six seven eight nine ten"]),
                            ["no", "one two three four five six seven eight nine ten"])
    assert table.wer.mean() == pytest.approx(0.5)
    assert error_summary(table)["wer"] == pytest.approx(1 / 11)


def test_summary_of_an_empty_table() -> None:
    summary = error_summary(utterance_table([], []))
    assert summary["utterances"] == 0 and summary["words"] == 0
    assert math.isnan(summary["wer"]) and math.isnan(summary["sentence_error_rate"])


def test_summary_rejects_a_frame_that_is_not_a_table() -> None:
    with pytest.raises(ValueError, match="missing columns"):
        error_summary(pd.DataFrame({"wer": [0.1]}))


# --- figures -------------------------------------------------------------------------------


def bar_count(ax) -> int:
    return len(ax.patches)


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue().startswith(b"\x89PNG")


def test_top_errors_figure_has_three_panels_most_frequent_on_top() -> None:
    refs = ["the cat sat"] * 3 + ["the dog ran"]
    hyps = ["a cat sat"] * 3 + ["a dog"]
    fig = top_errors_figure(error_counts(refs, hyps), top=5, title="dev set")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    subs_ax, del_ax, ins_ax = fig.axes
    assert bar_count(subs_ax) == 1 and bar_count(del_ax) == 1 and bar_count(ins_ax) == 0
    assert [t.get_text() for t in subs_ax.get_yticklabels()] == ["the → a"]
    assert subs_ax.patches[0].get_width() == 4
    assert [t.get_text() for t in del_ax.get_yticklabels()] == ["ran"]
    assert any(t.get_text() == "none" for t in ins_ax.texts)
    assert fig.get_suptitle() == "dev set"
    assert renders(fig)


def test_top_errors_figure_limits_and_orders_bars() -> None:
    refs = ["a b c d e f"]
    hyps = ["a b c d e f x x x y y z w"]
    counts = error_counts(refs, hyps)
    fig = top_errors_figure(counts, top=3)
    ins_ax = fig.axes[2]
    assert bar_count(ins_ax) == 3
    labels = [t.get_text() for t in ins_ax.get_yticklabels()]
    assert labels == ["x", "y", "w"]
    # y axis inverted: the first (most frequent) label sits at the top of the panel.
    assert ins_ax.yaxis_inverted()
    assert [p.get_width() for p in ins_ax.patches] == [3, 2, 1]


def test_top_errors_figure_without_errors_says_none_everywhere() -> None:
    fig = top_errors_figure(error_counts(["fine"], ["fine"]))
    assert len(fig.axes) == 3
    assert all(bar_count(ax) == 0 and [t.get_text() for t in ax.texts] == ["none"] for ax in fig.axes)
    assert renders(fig)


def test_wer_comparison_figure_groups_bars_in_percent() -> None:
    results = pd.DataFrame({"model": ["base", "fine-tuned", "int8"], "wer": [0.25, 0.081, 0.09],
                            "cer": [0.12, 0.03, 0.035]})
    fig = wer_comparison_figure(results)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert bar_count(ax) == 6
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == sorted([25.0, 8.1, 9.0, 12.0, 3.0, 3.5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["base", "fine-tuned", "int8"]
    printed = {t.get_text() for t in ax.texts}
    assert {"25.0%", "8.1%", "3.5%"} <= printed and len(printed) == 6
    assert renders(fig)


def test_wer_comparison_figure_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="cer"):
        wer_comparison_figure(pd.DataFrame({"model": ["base"], "wer": [0.1]}))
    with pytest.raises(ValueError, match="empty"):
        wer_comparison_figure(pd.DataFrame(columns=["model", "wer", "cer"]))
