"""``python -m index``: build, update and query an article index from the command line.

Every failure is one line on standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from index.errors import ArticleIndexError
from index.memory import hold_malloc_mmap_threshold
from index.progress import ProgressBars
from index.settings import IndexSettings


def _add_global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Options of every command, accepted before the command and after it (``--index-dir X build`` and
    ``build --index-dir X``); a command's parser adds them with ``argparse.SUPPRESS`` as the default, so
    an option given before the command is not reset by the command's parser."""
    parser.add_argument(
        "--index-dir", type=Path, default=default, help="the index directory (default: INDEX_DIR or var/index)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description="Build, update and query an article index.")
    _add_global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the index from scratch from article files and folders")
    build.add_argument(
        "sources",
        nargs="*",
        help="files or folders of articles (.txt .md .html .jsonl .jsonl.gz), "
        "article or RSS/Atom feed URLs, or sources files (FILE.sources)",
    )
    add = commands.add_parser("add", help="add new and changed articles; unchanged ones are skipped")
    add.add_argument("sources", nargs="*")
    add.add_argument("--remove-missing", action="store_true", help="also remove articles no longer in the sources")
    for command in (build, add):
        command.add_argument(
            "--sources",
            dest="sources_files",
            action="append",
            default=[],
            metavar="FILE",
            help="a file listing sources one a line (# comments); may be repeated",
        )
    remove = commands.add_parser("remove", help="remove articles by id")
    remove.add_argument("ids", nargs="+")
    commands.add_parser("stats", help="show counts and the index manifest")
    for name, text in (("search", "show the best matching passages"), ("ask", "answer with cited sources")):
        command = commands.add_parser(name, help=text + " (questions from standard input when none is given)")
        command.add_argument("question", nargs="*", help="the question (several words are joined)")
        if name == "search":
            command.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
        command.add_argument("--json", action="store_true", help="one JSON object per question, one a line")
    _add_eval_parser(commands)
    for command in commands.choices.values():
        _add_global_options(command, default=argparse.SUPPRESS)
    return parser


def _add_eval_parser(commands) -> None:
    evaluate = commands.add_parser("eval", help="measure retrieval and answers on a SQuAD v1.1 file")
    evaluate.add_argument("squad", type=Path, help="SQuAD v1.1 JSON: its contexts are indexed, its answers are gold")
    evaluate.add_argument("--questions", type=Path, help="a parallel SQuAD file (same question ids) to ask instead")
    evaluate.add_argument("--distractors", nargs="+", default=[], metavar="JSONL", help="articles added as distractors")
    evaluate.add_argument("--distractor-limit", type=int, metavar="N", help="only the first N distractor articles")
    evaluate.add_argument(
        "--distractor-paragraphs",
        action="store_true",
        help="index each distractor paragraph as its own document, as the SQuAD paragraphs are",
    )
    evaluate.add_argument(
        "--unanswerable-paragraph",
        action="store_true",
        help="ask each question as if its own paragraph were not indexed: the rest of its article is, "
        "so the question is on topic but unanswered (the SQuAD 2.0 idea; measures 'no answer')",
    )
    evaluate.add_argument(
        "--unanswerable",
        action="store_true",
        help="index only the distractors: every question is unanswerable (measures 'no answer')",
    )
    evaluate.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    evaluate.add_argument(
        "--llm",
        action="store_true",
        help="answer through the LLM path (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY): verified sentences, fallbacks, "
        "answer-hit on the cited passages, latency and tokens",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON, with every question")
    evaluate.add_argument(
        "--work-dir",
        type=Path,
        default=Path("var/eval"),
        help="where the evaluation indexes are kept between runs (default var/eval)",
    )


def main(argv: Sequence[str] | None = None, env: dict | None = None) -> int:
    hold_malloc_mmap_threshold()  # before the model and the index take memory
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("build", "add") and not args.sources and not args.sources_files:
        parser.error(f"{args.command} needs at least one source, or --sources FILE")
    environ = os.environ if env is None else env
    try:
        settings = IndexSettings.from_env(environ)
        if args.index_dir:
            settings = _with_index_dir(settings, args.index_dir)
        return _run(args, settings, environ)
    except ArticleIndexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the index was left as it was before this command.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file or folder the command needed and could not use, not foreseen above
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}; check the path and its permissions.", file=sys.stderr)
        return 1


def _with_index_dir(settings: IndexSettings, index_dir: Path) -> IndexSettings:
    from dataclasses import replace

    return replace(settings, index_dir=index_dir)


def _run(args: argparse.Namespace, settings: IndexSettings, environ: Mapping[str, str]) -> int:
    from index.engine import Engine
    from index.sources.fetching import FetchSettings

    engine = Engine(settings, fetch_settings=FetchSettings.from_env(environ))
    if args.command in ("build", "add", "remove"):
        return _change(engine, args, environ)
    if args.command == "stats":
        return _stats(engine)
    if args.command == "eval":
        return _eval_llm(args, settings, environ) if args.llm else _eval(args, settings)
    questions = [" ".join(args.question)] if args.question else _stdin_questions()
    if args.command == "search":
        return _each(questions, lambda q: _search(engine, q, args.k, args.json))
    from index.llm.render import answer_text

    llm = _llm_answerer(environ)  # None unless LLM_BASE_URL is set
    if args.json:
        return _each(questions, lambda q: _ask_json(engine, q, llm))
    end = "\n" if not args.question else ""
    return _each(questions, lambda q: print(answer_text(*engine.ask_blocking(q, llm)) + end))


def _llm_answerer(environ: Mapping[str, str]):
    """The LLM step when LLM_BASE_URL is set (``index.llm``), else None: answers stay extractive."""
    from index.llm import LlmAnswerer, LlmSettings

    llm_settings = LlmSettings.from_env(environ)
    return LlmAnswerer(llm_settings) if llm_settings.enabled else None


def _stdin_questions() -> Iterable[str]:
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def _each(questions: Iterable[str], answer: Callable[[str], None]) -> int:
    """Answer every question; a bad question is reported and the rest go on."""
    from index.errors import QuestionError

    status = 0
    for question in questions:
        try:
            answer(question)
        except QuestionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
        sys.stdout.flush()
    return status


def _search(engine, question: str, k: int, as_json: bool) -> None:
    hits = engine.search(question, k)
    if as_json:
        print(json.dumps({"question": question, "hits": [hit.to_json() for hit in hits]}, ensure_ascii=False))
        return
    print(f"? {question}")
    for rank, hit in enumerate(hits, start=1):
        where = f"[{hit.article_id} {hit.start}:{hit.end}]"
        print(f"{rank}. {hit.score:.3f}  {hit.title} — {hit.source} {hit.published[:10]}  {where}")
        print(f"   {' '.join(hit.text.split())[:300]}")


def _ask_json(engine, question: str, llm=None) -> None:
    """One JSON line: the answer (``index.answer.render.answer_as_json``), the seconds it took, and whether it
    came from the LLM or the extractive path (``index.llm.render.answer_json``)."""
    import time

    from index.llm.render import answer_json

    started = time.perf_counter()
    extractive, llm_answer = engine.ask_blocking(question, llm)
    print(json.dumps(answer_json(extractive, llm_answer, time.perf_counter() - started), ensure_ascii=False))


def _eval(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.evaluation import run_eval

    with ProgressBars(sys.stderr) as progress:
        inputs = _eval_inputs(args)
        report = run_eval(inputs, settings, args.work_dir, args.unanswerable_paragraph, progress=progress)
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if args.json else report.summary())
    return 0


def _eval_inputs(args: argparse.Namespace):
    from index.evaluation import EvalInputs

    return EvalInputs(
        args.squad,
        args.questions,
        args.distractors,
        args.distractor_limit,
        args.distractor_paragraphs,
        args.unanswerable,
        args.limit,
    )


def _eval_llm(args: argparse.Namespace, settings: IndexSettings, environ: Mapping[str, str]) -> int:
    from index.errors import SettingsError
    from index.evaluation_llm import run_llm_eval

    llm = _llm_answerer(environ)
    if llm is None:
        raise SettingsError("eval --llm needs an LLM endpoint: set LLM_BASE_URL and LLM_MODEL (and LLM_API_KEY).")
    if args.unanswerable_paragraph:
        raise SettingsError("eval --llm does not take --unanswerable-paragraph; use --unanswerable.")
    with ProgressBars(sys.stderr) as progress:
        report = run_llm_eval(_eval_inputs(args), settings, args.work_dir, llm, progress=progress)
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if args.json else report.summary())
    return 0


def _change(engine, args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    with ProgressBars(sys.stderr) as progress:
        if args.command == "remove":
            report = engine.remove(args.ids)
        else:  # files and folders are loaded, URLs fetched (FETCH_* settings), sources files read
            replace_all = args.command == "build" or args.remove_missing
            report = engine.update(
                args.sources, replace_all=replace_all, sources_files=args.sources_files, progress=progress
            )
    for problem in report.problems:
        print(str(problem), file=sys.stderr)
    print(report.summary())
    return 0


def _stats(engine) -> int:
    stats = engine.stats()
    outlets = ", ".join(f"{name} ({count})" for name, count in stats.sources.items())
    print(f"{stats.articles} articles, {stats.chunks} chunks; built {stats.built_at} with {stats.model_id}")
    print(f"outlets: {outlets}")
    print(f"newest article: {stats.newest_published or 'no dates'}")
    print(json.dumps(stats.manifest, ensure_ascii=False, indent=2))
    return 0
