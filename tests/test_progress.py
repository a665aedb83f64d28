"""Build progress: tqdm bars on a terminal, a few plain lines elsewhere."""

import io

from index.progress import ProgressBars


def _report(progress, stages):
    for stage, total in stages:
        for done in range(total + 1):
            progress(stage, done, total)


def test_in_a_log_each_stage_is_one_plain_line_when_it_is_quick():
    stream = io.StringIO()
    with ProgressBars(stream) as progress:
        _report(progress, [("embedding", 7), ("lexicon", 142)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("embedding: 100% 7/7 [") and "chunk/s]" in lines[0]
    assert lines[1].startswith("lexicon: 100% 142/142 [") and "word/s]" in lines[1]


def test_in_a_log_a_long_stage_prints_as_it_goes_and_once_at_its_end():
    stream = io.StringIO()
    with ProgressBars(stream, every=0.0) as progress:  # every call is "long enough" after the last line
        _report(progress, [("embedding", 3)])
    lines = stream.getvalue().splitlines()
    assert [line.split(" [")[0] for line in lines] == [
        "embedding:   0% 0/3",
        "embedding:  33% 1/3",
        "embedding:  67% 2/3",
        "embedding: 100% 3/3",
    ]


def test_a_stage_whose_total_grows_ends_with_its_last_total():
    stream = io.StringIO()
    with ProgressBars(stream) as progress:
        progress("fetching", 0, 2)
        progress("fetching", 2, 2)
        progress("fetching", 3, 12)  # a feed listed ten entries
        progress("fetching", 12, 12)
    assert stream.getvalue().splitlines() == [stream.getvalue().splitlines()[0]]
    assert stream.getvalue().startswith("fetching: 100% 12/12 [")


def test_on_a_terminal_each_stage_is_a_bar_left_on_screen():
    stream = io.StringIO()
    with ProgressBars(stream, interactive=True) as progress:
        _report(progress, [("embedding", 7), ("fetching", 0)])
        progress("fetching", 5, 5)
    screen = stream.getvalue()
    assert "\r" in screen  # redrawn in place
    finished = [line.rsplit("\r", 1)[-1] for line in screen.split("\n")]
    assert finished[0].startswith("embedding: 100%|") and "7/7" in finished[0]
    assert finished[1].startswith("fetching: 100%|") and "5/5" in finished[1]


def test_nothing_is_printed_without_progress():
    stream = io.StringIO()
    with ProgressBars(stream):
        pass
    assert stream.getvalue() == ""
