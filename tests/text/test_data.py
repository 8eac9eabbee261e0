"""The generated date pairs, the character vocabulary and the Shakespeare reader."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dl_roadmap.text.dates import FORMS, generate_pairs, validate_pairs
from dl_roadmap.text.shakespeare import markdown_to_text, read_corpus, validate_play
from dl_roadmap.text.vocab import PAD, UNK, CharVocab


def test_pairs_are_seeded_distinct_and_correct():
    pairs = generate_pairs(600, seed=3)
    assert pairs.equals(generate_pairs(600, seed=3)) and not pairs.equals(generate_pairs(600, seed=4))
    assert pairs["input"].is_unique and set(pairs["form"]) == set(FORMS)
    validate_pairs(pairs, "generated", 96)
    # spot checks of the forms' meaning, read back independently of the generator
    for text, target in zip(pairs["input"], pairs["target"]):
        date = dt.date.fromisoformat(target)
        if text.count("/") == 2 and text[:4].isdigit():
            assert dt.datetime.strptime(text, "%Y/%m/%d").date() == date
        elif text.count("/") == 2 or (text.count(".") == 2 and text.replace(".", "").isdigit()):
            day, month, year = map(int, text.replace(".", "/").split("/"))
            if year < 100:  # the stated rule: 00-49 -> 20xx, 50-99 -> 19xx
                year += 2000 if year < 50 else 1900
            assert dt.date(year, month, day) == date
        elif text.count("-") == 2 and text.replace("-", "").isdigit():
            assert dt.datetime.strptime(text, "%d-%m-%Y").date() == date


def test_babel_and_num2words_write_the_expected_forms():
    pairs = generate_pairs(3000, seed=0)
    texts = " ".join(pairs["input"])
    for fragment in ("mars", "März", "de ", "of ", "the ", "th ", "twenty", "thousand"):
        assert fragment in texts, fragment


def test_validation_names_the_row_and_the_problem():
    good = pd.DataFrame({"input": ["3 March 2014", "03/03/14"], "target": ["2014-03-03", "2014-03-03"]})
    validate_pairs(good, "pairs.csv", 20)
    cases = [({"target": ["2014-02-30", "2014-03-03"]}, "row 0: target '2014-02-30' is not a calendar date"),
             ({"target": ["2014-3-3", "2014-03-03"]}, "row 0: target '2014-3-3' is not yyyy-mm-dd"),
             ({"input": ["3 March 2014", " "]}, "row 1: empty input"),
             ({"target": ["2014-03-03", "1900-01-01"]}, "row 1: target 1900-01-01 outside")]
    for change, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            validate_pairs(good.assign(**change), "pairs.csv", 20)
    with pytest.raises(ValueError, match="pairs.csv, row 0: input .* over max_input_length=5"):
        validate_pairs(good, "pairs.csv", 5)
    with pytest.raises(ValueError, match="unknown form"):
        generate_pairs(5, 0, {"emoji": 1.0})


def test_vocab_round_trips_and_pads():
    vocab = CharVocab.from_texts(["abc", "cab!"])
    assert vocab.decode(vocab.encode("cab!")) == "cab!"
    batch = vocab.batch(["ab", "abc!"])
    assert batch.shape == (2, 4) and batch[0, 2:].tolist() == [PAD, PAD]
    assert vocab.encode("z") == [UNK] and CharVocab(vocab.state()).encode("a!") == vocab.encode("a!")


MARKDOWN = """# A Play

## ACT I

### SCENE I. A heath.

_Enter FIRST WITCH and
SECOND WITCH_

**FIRST WITCH**  
When shall we three meet again  
In thunder, lightning, or in rain? __\\[Aside]_

*Thunder.*

**SECOND WITCH**  
When the hurlyburly's done,\\--  
"""


def test_markdown_becomes_tiny_shakespeare_layout():
    text = markdown_to_text(MARKDOWN)
    assert text == ("FIRST WITCH:\nWhen shall we three meet again\nIn thunder, lightning, or in rain?\n\n"
                    "SECOND WITCH:\nWhen the hurlyburly's done,--\n")


def test_a_play_with_markup_left_is_named_with_its_line():
    play = ("LEAR:\nBlow, winds.\n\n" * 60) + "**FOOL\nnuncle\n" + "x" * 10_000
    with pytest.raises(ValueError, match=r"lear.md, line 181 of the converted text: Markdown left \(\['\*'\]\)"):
        validate_play(play, "lear.md")
    with pytest.raises(ValueError, match="only 3 characters"):
        validate_play("ab\n", "short.md")


def test_the_whole_corpus_reads_and_validates():
    text, rows = read_corpus()
    assert len(rows) == 38 and 4_000_000 < len(text) < 6_000_000
    assert "HAMLET:\n" in text and "*" not in text and "_" not in text
