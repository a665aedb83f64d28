import hashlib
import random

from index.text.near_duplicates import DuplicateFinder, resemblance, signature

WIRE = (
    "قال المتحدث باسم الجيش الوطني الليبي إن القوات سيطرت على مواقع جديدة جنوب طرابلس بعد اشتباكات عنيفة "
    "استمرت طوال الليل مع قوات حكومة الوفاق، وأضاف أن عشرات المقاتلين أسروا خلال العملية التي بدأت فجر الأحد. "
    "وقالت حكومة الوفاق في بيان إنها صدت الهجوم وألحقت خسائر كبيرة بالقوات المهاجمة."
)
REPUBLISHED = "طرابلس (رويترز) - " + WIRE.replace("الأحد", "الأحد الماضي") + " ولم يتسن التحقق من الروايتين."
SAME_EVENT_OTHER_STORY = (
    "شهدت الضواحي الجنوبية للعاصمة الليبية ليلة دامية، إذ سمع السكان دوي المدافع حتى الصباح. "
    "ويقول شهود إن عائلات كثيرة نزحت نحو وسط طرابلس هربا من القصف، فيما ناشدت منظمات الإغاثة الطرفين فتح ممرات آمنة."
)
ENGLISH = (
    "Forces loyal to Khalifa Haftar said they captured new positions south of Tripoli after heavy clashes "
    "that lasted through the night, taking dozens of fighters prisoner in an operation that began at dawn on Sunday."
)


def test_republished_wire_story_is_recognised():
    assert resemblance(signature(WIRE), signature(REPUBLISHED)) >= 0.6


def test_different_stories_on_the_same_event_are_kept_apart():
    assert resemblance(signature(WIRE), signature(SAME_EVENT_OTHER_STORY)) < 0.2
    assert resemblance(signature(WIRE), signature(ENGLISH)) < 0.2


def test_finder_groups_copies_under_the_first_article():
    finder = DuplicateFinder()
    stories = finder.add_all(
        [
            ("reuters", signature(WIRE)),
            ("other", signature(SAME_EVENT_OTHER_STORY)),
            ("copy", signature(REPUBLISHED)),
            ("english", signature(ENGLISH)),
        ]
    )
    assert stories == {"reuters": "reuters", "other": "other", "copy": "reuters", "english": "english"}


def test_diacritics_and_letter_forms_do_not_hide_a_copy():
    marked = WIRE.replace("قال", "قَالَ").replace("إن", "ان").replace("الليبي", "الليبى")
    assert resemblance(signature(WIRE), signature(marked)) >= 0.6


def test_signatures_are_those_stored_by_earlier_builds():
    # the index keeps each article's signature and compares new articles with it: the values must not drift
    assert signature(WIRE)[:4].tolist() == [22781460, 11976107, 89663058, 38800220]
    assert hashlib.sha256(signature(WIRE).tobytes()).hexdigest()[:16] == "5cd6906754ada36c"


def test_short_texts_have_signatures():
    assert signature("one two").shape == (128,)
    assert resemblance(signature("one two"), signature("one two")) == 1.0


def _story_text(seed: int, length: int = 200) -> str:
    """A made-up article of ``length`` words drawn from the test texts' vocabulary, different for each seed."""
    vocabulary = sorted(set((WIRE + " " + SAME_EVENT_OTHER_STORY + " " + ENGLISH).split()))
    rng = random.Random(seed)
    return " ".join(rng.choice(vocabulary) for _ in range(length))


def _copies(base: str, count: int, prefix: str, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` republished copies of ``base``: a dateline of their own and three words changed each."""
    rng = random.Random(seed)
    words = base.split()
    copies = []
    for number in range(count):
        changed = list(words)
        for _ in range(3):
            changed[rng.randrange(len(changed))] = f"كلمة{rng.randrange(10**6)}"
        copies.append((f"{prefix}-{number}", f"{prefix} {number} - " + " ".join(changed)))
    return copies


def test_near_identical_articles_are_one_story_found_with_bounded_work():
    count = 150
    finder = DuplicateFinder()
    articles = _copies(_story_text(1), count, "copy")
    stories = finder.add_all((article_id, signature(text)) for article_id, text in articles)
    assert set(stories.values()) == {"copy-0"}
    # each copy is compared with a bounded number of stored ones, not with every earlier copy (quadratic)
    assert finder.comparisons <= count * 64, finder.comparisons


def test_interleaved_copies_of_several_stories_are_grouped_under_each_first_copy():
    articles = [item for story in range(5) for item in _copies(_story_text(story), 40, f"story{story}", seed=story)]
    articles += [(f"alone{number}-0", _story_text(100 + number)) for number in range(20)]
    random.Random(3).shuffle(articles)
    first: dict[str, str] = {}
    for article_id, _ in articles:
        first.setdefault(article_id.split("-")[0], article_id)
    stories = DuplicateFinder().add_all((article_id, signature(text)) for article_id, text in articles)
    assert stories == {article_id: first[article_id.split("-")[0]] for article_id, _ in articles}
