"""Answers that know their sources: copies of one story cited once, dates, time frames."""

import datetime as dt

from bot.formatting import answer_html
from index import Article
from index.answer.render import answer_as_text
from tests.test_duplicates import REPUBLISHED, SAME_EVENT_OTHER_STORY, WIRE

QUESTION = "ماذا قال المتحدث باسم الجيش الوطني الليبي عن المواقع جنوب طرابلس؟"


def _articles():
    return [
        Article("reuters", "اشتباكات جنوب طرابلس", WIRE, source="Reuters", published="2019-11-14"),
        Article("sky", "القوات تتقدم جنوب طرابلس", REPUBLISHED, source="Sky News Arabia", published="2019-11-15"),
        Article("bbc", "ليلة دامية في طرابلس", SAME_EVENT_OTHER_STORY, source="BBC Arabic", published="2019-11-14"),
    ]


def test_copies_of_one_story_are_cited_once_with_the_other_outlets(hashing_engine):
    engine = hashing_engine()
    engine.add_articles(_articles())
    answer = engine.ask(QUESTION)
    assert answer.found
    cited = [citation.article_id for citation in answer.citations]
    assert len({"reuters", "sky"} & set(cited)) == 1, cited  # one story, one citation
    wire = next(c for c in answer.citations if c.article_id in ("reuters", "sky"))
    assert wire.also_in == (("Sky News Arabia",) if wire.article_id == "reuters" else ("Reuters",))
    assert "also in: " in answer_as_text(answer) and "also in: " in answer_html(answer)


def test_different_stories_on_the_same_event_are_both_kept(hashing_engine):
    engine = hashing_engine()
    engine.add_articles(_articles())
    hits_articles = {hit.article_id for hit in engine.ask_and_search("طرابلس", 10)[1]}
    assert "bbc" in hits_articles and len({"reuters", "sky"} & hits_articles) == 1


def _dated(hashing_engine):
    engine = hashing_engine()
    engine.today = lambda: dt.date(2019, 11, 20)
    engine.add_articles(
        [
            Article(
                "old",
                "Talks on Tripoli",
                "Envoys held talks on a ceasefire in Tripoli with both sides.",
                source="Old Wire",
                published="2018-05-02",
            ),
            Article(
                "new",
                "Tripoli talks resume",
                "Envoys resumed talks on a ceasefire in Tripoli this week.",
                source="New Wire",
                published="2019-11-18",
            ),
        ]
    )
    return engine


def test_a_question_naming_a_time_keeps_to_it(hashing_engine):
    engine = _dated(hashing_engine)
    last_week = engine.ask("talks on a ceasefire in Tripoli in 2018")
    assert [c.article_id for c in last_week.citations] == ["old"]
    assert last_week.timeframe == "2018-01-01 – 2018-12-31" and last_week.timeframe_matched
    assert "From articles of 1 Jan 2018 – 31 Dec 2018." in answer_as_text(last_week)
    this_week = engine.ask("ceasefire talks in Tripoli this week")
    assert {c.article_id for c in this_week.citations} == {"new"}


def test_a_time_with_no_articles_says_so_and_answers_from_all(hashing_engine):
    engine = _dated(hashing_engine)
    answer = engine.ask("ceasefire talks in Tripoli in 2015")
    assert answer.citations and not answer.timeframe_matched
    assert "No article from 1 Jan 2015 – 31 Dec 2015 matched" in answer_as_text(answer)


def test_sources_of_different_dates_say_as_of_the_newest():
    from index import Answer, Citation
    from index.answer.stories import annotate

    def cite(number, published):
        return Citation(number, f"a{number}", "t", "Wire", "", published, "q", 0, 1, "q", 0.9)

    answer = Answer("q", True, [("q", 1), ("q", 2)], [cite(1, "2018-05-02"), cite(2, "2019-11-18T10:00:00Z")])
    annotated = annotate(answer, {}, None, True)
    assert annotated.as_of == "2019-11-18"
    assert "As of 18 Nov 2019, the newest of these sources." in answer_as_text(annotated)
    same_day = annotate(Answer("q", True, [("q", 1)], [cite(1, "2019-11-18")]), {}, None, True)
    assert same_day.as_of == ""
