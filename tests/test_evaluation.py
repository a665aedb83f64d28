"""``python -m index eval`` on a tiny SQuAD file built here, with the fake encoder."""

from __future__ import annotations

import json
from pathlib import Path

from index import Article, HashingEmbedder, IndexSettings
from index.cli import main
from index.evaluation import EvalInputs, answer_contains, paragraph_documents, run_eval

CONTEXTS = {
    "Olives": [
        (
            "بدأ المزارعون في صفاقس قطف الزيتون مبكرا هذا العام بسبب الحرارة.",
            "q1",
            "متى بدأ المزارعون في صفاقس قطف الزيتون؟",
            "مبكرا",
        ),
        (
            "يتوقع المصدرون أسعارا قياسية لزيت الزيتون في أوروبا.",
            "q2",
            "ماذا يتوقع المصدرون لزيت الزيتون في أوروبا؟",
            "أسعارا قياسية",
        ),
    ],
    "Oil": [
        (
            "ارتفع إنتاج النفط في ليبيا إلى مليون برميل يوميا بعد فتح الموانئ الشرقية.",
            "q3",
            "كم برميلا تنتج ليبيا من النفط يوميا؟",
            "مليون برميل",
        ),
    ],
}
ENGLISH = {
    "q1": "When did the farmers start?",
    "q2": "What do exporters expect?",
    "q3": "How much oil does Libya produce?",
}


def _squad(path: Path, english: bool = False) -> Path:
    data = {"version": "1.1", "data": []}
    for title, paragraphs in CONTEXTS.items():
        data["data"].append(
            {
                "title": title,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": qid,
                                "question": ENGLISH[qid] if english else question,
                                "answers": [{"text": answer, "answer_start": context.find(answer)}],
                            }
                        ],
                    }
                    for context, qid, question, answer in paragraphs
                ],
            }
        )
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _distractors(path: Path) -> Path:
    lines = [{"id": f"d{i}", "title": "خبر", "text": f"خبر رقم {i} عن الطقس في تونس والمغرب."} for i in range(4)]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    return path


def test_eval_command_reports_every_metric_as_json(tmp_path, capsys):
    squad = _squad(tmp_path / "ar.json")
    env = {"EMBEDDING_MODEL": "test:hashing"}
    status = main(
        [
            "eval",
            str(squad),
            "--json",
            "--work-dir",
            str(tmp_path / "work"),
            "--distractors",
            str(_distractors(tmp_path / "d.jsonl")),
            "--distractor-limit",
            "3",
        ],
        env=env,
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    metrics = report["metrics"]
    assert metrics["questions"] == 3 and report["config"]["distractors"] == 3 and report["config"]["articles"] == 6
    for name in ("recall@1", "recall@5", "recall@20", "mrr@10", "answer_hit@1", "no_answer_rate", "latency_median_s"):
        assert name in metrics
    assert metrics["recall@1"] == 1.0 and metrics["mrr@10"] == 1.0  # the Arabic questions share their paragraph's words
    assert len(report["questions"]) == 3 and {"rank", "found", "hit", "seconds"} <= set(report["questions"][0])


def test_eval_text_summary(tmp_path, capsys):
    squad = _squad(tmp_path / "ar.json")
    assert (
        main(["eval", str(squad), "--work-dir", str(tmp_path / "work")], env={"EMBEDDING_MODEL": "test:hashing"}) == 0
    )
    out = capsys.readouterr().out
    assert "recall@1" in out and "answer_hit@1" in out and "latency" in out


def test_parallel_questions_use_the_gold_of_the_contexts(tmp_path):
    inputs = EvalInputs(_squad(tmp_path / "ar.json"), questions_path=_squad(tmp_path / "en.json", english=True))
    report = run_eval(inputs, IndexSettings(), tmp_path / "work", embedder=HashingEmbedder())
    assert [r.question for r in report.results] == list(ENGLISH.values())
    assert report.config["questions_file"].endswith("en.json")


def test_a_rerun_reuses_the_index(tmp_path):
    embedder = HashingEmbedder()
    squad = _squad(tmp_path / "ar.json")
    run_eval(EvalInputs(squad), IndexSettings(), tmp_path / "work", embedder=embedder)
    embedded = embedder.texts_embedded
    run_eval(EvalInputs(squad), IndexSettings(), tmp_path / "work", embedder=embedder)
    passages_embedded_again = embedder.texts_embedded - embedded
    assert passages_embedded_again < 3 * 4  # questions and warm-up only, no paragraphs
    assert len(list((tmp_path / "work").glob("index-*"))) == 1


def test_unanswerable_mode_indexes_only_the_distractors(tmp_path):
    inputs = EvalInputs(
        _squad(tmp_path / "ar.json"), distractors=[_distractors(tmp_path / "d.jsonl")], unanswerable=True
    )
    report = run_eval(inputs, IndexSettings(), tmp_path / "work", embedder=HashingEmbedder())
    metrics = report.metrics()
    assert report.config["articles"] == 4 and "recall@1" not in metrics and "no_answer_rate" in metrics


def test_distractor_paragraphs_are_indexed_as_documents(tmp_path, capsys):
    path = tmp_path / "long.jsonl"
    long_lines = [
        {
            "id": f"d{i}",
            "title": "خبر",
            "text": "\n".join(f"الفقرة {n} من الخبر {i}: " + "كلام " * 40 for n in range(3)),
        }
        for i in range(2)
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in long_lines), encoding="utf-8")
    status = main(
        [
            "eval",
            str(_squad(tmp_path / "ar.json")),
            "--json",
            "--work-dir",
            str(tmp_path / "work"),
            "--distractors",
            str(path),
            "--distractor-paragraphs",
        ],
        env={"EMBEDDING_MODEL": "test:hashing"},
    )
    assert status == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert config["distractors"] == 6 and config["articles"] == 9 and config["distractor_paragraphs"] is True


def test_paragraph_documents_join_short_lines_and_keep_every_word():
    text = (
        "Tripoli, Monday\n"
        + "A long first paragraph about the talks. " * 5
        + "\n\n"
        + "The second one, also long enough. " * 6
        + "\nEnd."
    )
    article = Article(id="a1", title="Talks", text=text, source="Wire")
    parts = paragraph_documents(article, min_chars=100)
    assert [p.id for p in parts] == ["a1#0", "a1#1"]
    assert parts[0].text.startswith("Tripoli, Monday\nA long first") and parts[1].text.endswith("\nEnd.")
    assert all(p.title == "Talks" and p.source == "Wire" for p in parts)
    assert " ".join(" ".join(p.text for p in parts).split()) == " ".join(text.split())
    assert paragraph_documents(Article(id="b", title="", text="short"), min_chars=100)[0].text == "short"


def test_answer_hit_normalises_whitespace_and_arabic_spelling():
    assert answer_contains("ارتفع الإنتاج إلى  مليون\nبرميل [1]", ["مليون برميل"])
    assert answer_contains("قال إن الأسعار قياسيةٌ", ["الاسعار قياسية"])
    assert not answer_contains("x" * 300 + " مليون برميل", ["مليون برميل"])  # past the first 300 characters
