"""The public API of ``index``: what the front ends may import, and that they import nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import index

PROJECT = Path(__file__).resolve().parent.parent

EXPORTED = {
    "NOT_FOUND", "Added", "Answer", "Article", "ArticleError", "ArticleIndexError", "BuildError", "BuildReport",
    "Citation", "Embedder", "Engine", "FetchSettings", "HashingEmbedder", "IndexCorruptError", "IndexMismatchError",
    "IndexNotFoundError", "IndexSettings", "IndexStats", "LoadProblem", "ModelError", "QuestionError", "SearchHit",
    "ProgressBars", "SettingsError", "answer_as_text", "answer_notes", "is_sources_file", "newest_articles",
    "source_details", "whole_number",
    "CitedArticle", "answer_sentences", "cited_articles", "is_web_url", "markers", "hold_malloc_mmap_threshold",
    "LlmAnswer", "LlmAnswerer", "LlmSettings",
}  # fmt: skip


def test_the_exported_names_are_pinned() -> None:
    assert set(index.__all__) == EXPORTED
    assert all(hasattr(index, name) for name in EXPORTED)


def test_the_bot_imports_only_the_public_api() -> None:
    for path in sorted((PROJECT / "bot").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index"):
                assert node.module == "index", f"{path.name} imports {node.module}; use `from index import …`"
                assert {alias.name for alias in node.names} <= EXPORTED, path.name
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("index.") for alias in node.names), path.name


def test_each_layer_imports_only_the_layers_below_it() -> None:
    """text < sources < encoders < storage < search < answer < llm < the top modules (engine, builder, cli, …).

    records, errors, settings and tuning are the foundation every layer may use."""
    order = ["text", "sources", "encoders", "storage", "search", "answer", "llm"]
    foundation = {"index.records", "index.errors", "index.settings", "index.tuning"}
    for layer_rank, layer in enumerate(order):
        for path in sorted((PROJECT / "index" / layer).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index"):
                    if node.module in foundation:
                        continue
                    parts = node.module.split(".")
                    assert len(parts) >= 2 and parts[1] in order, f"{layer}/{path.name} imports {node.module}"
                    assert order.index(parts[1]) <= layer_rank, f"{layer}/{path.name} imports {node.module}"


def test_no_module_is_longer_than_about_400_lines() -> None:
    long = {
        str(path.relative_to(PROJECT)): n
        for path in (PROJECT / "index").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 420
    }
    assert not long, long


def test_no_module_imports_itself_back_at_import_time() -> None:
    """No import cycle among the modules of ``index`` (module-level imports; the package's own re-exports aside)."""
    modules = {}
    for path in (PROJECT / "index").rglob("*.py"):
        name = ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")
        if name == "index":
            continue
        imported = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index."):
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        modules[name] = imported
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, " -> ".join([*path[path.index(module) :], module])
        if module in done:
            return
        for imported in modules[module] & modules.keys():
            visit(imported, [*path, module])
        done.add(module)

    for module in modules:
        visit(module, [])
