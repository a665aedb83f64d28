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


def test_short_texts_have_signatures():
    assert signature("one two").shape == (128,)
    assert resemblance(signature("one two"), signature("one two")) == 1.0
