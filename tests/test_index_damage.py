"""A damaged or unusable index directory, through ``python -m index``: one line saying what to do, never a
traceback, and never a lost generation (issue 13, points 5, 7 and 11)."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from index.cli import main
from index.storage import generations
from index.storage.article_store import ArticleStore
from tests.conftest import NEWS, write_articles

NEW = {"solar-farm": "Solar farm opens near Sabha\n\nA new solar farm near Sabha feeds forty megawatts into the grid."}


def run(capsys: pytest.CaptureFixture, index_dir: Path, *args: object) -> tuple[int, str, str]:
    """``python -m index --index-dir INDEX_DIR ARGS``, in this process: (status, stdout, stderr)."""
    status = main(["--index-dir", str(index_dir), *map(str, args)], {"EMBEDDING_MODEL": "test:hashing"})
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str) -> str:
    """The one problem line of standard error (progress bars aside); fails on a traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def article_count(capsys: pytest.CaptureFixture, index_dir: Path) -> int:
    status, out, err = run(capsys, index_dir, "stats")
    assert status == 0, err
    return int(out.split()[0])


@pytest.fixture
def built(tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[Path, Path]:
    """(index folder, articles folder): an index of the three NEWS articles."""
    articles = write_articles(tmp_path / "articles", NEWS)
    status, _, err = run(capsys, tmp_path / "index", "build", articles)
    assert status == 0, err
    return tmp_path / "index", articles


def current(index_dir: Path) -> Path:
    return index_dir / os.readlink(index_dir / generations.CURRENT)


# 5. --index-dir where no folder can be made ---------------------------------------------------------


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path / "a-file" / "index"


@pytest.mark.parametrize(
    "place",
    [
        pytest.param(lambda tmp: Path("/proc/index"), id="under-proc"),
        pytest.param(_under_a_file, id="under-a-regular-file"),
        pytest.param(lambda tmp: Path("/sys/index"), id="under-sys"),
    ],
)
def test_an_index_dir_where_no_folder_can_be_made_is_one_line(tmp_path, capsys, place):
    index_dir = place(tmp_path)
    if not index_dir.parent.is_dir() and index_dir.parent.name != "a-file":
        pytest.skip(f"{index_dir.parent} does not exist here")
    articles = write_articles(tmp_path / "articles", NEWS)
    status, _, err = run(capsys, index_dir, "build", articles)
    assert status == 1
    line = one_line_error(err)
    assert str(index_dir) in line and "INDEX_DIR" in line, line


# 5. a full disk --------------------------------------------------------------------------------------


def _numpy_save_finds_the_disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "save", full)


def _sqlite_finds_the_disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ArticleStore, "add_article", full)


@pytest.mark.parametrize("disk_full", [_numpy_save_finds_the_disk_full, _sqlite_finds_the_disk_full])
def test_a_full_disk_is_one_line_and_the_old_index_stays(built, capsys, monkeypatch, disk_full):
    index_dir, articles = built
    before = current(index_dir)
    write_articles(articles, NEW)
    disk_full(monkeypatch)
    status, _, err = run(capsys, index_dir, "add", articles)
    assert status == 1
    line = one_line_error(err)
    assert "full" in line and str(index_dir) in line, line
    monkeypatch.undo()
    assert current(index_dir) == before and article_count(capsys, index_dir) == 3
    assert not list(index_dir.glob(".staging-*"))


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]).returncode == 0


def test_a_really_full_disk_is_one_line_and_the_old_index_stays(tmp_path, capsys):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        articles = write_articles(tmp_path / "articles", NEWS)
        status, _, err = run(capsys, disk / "index", "build", articles)
        assert status == 0, err
        before = current(disk / "index")
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as handle:  # fill the disk: the next generation cannot be written
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        write_articles(articles, NEW)
        status, _, err = run(capsys, disk / "index", "add", articles)
        assert status == 1
        assert "full" in one_line_error(err)
        filler.unlink()
        assert current(disk / "index") == before and article_count(capsys, disk / "index") == 3
    finally:
        subprocess.run(["umount", "--lazy", str(disk)])


# 5. damaged files ------------------------------------------------------------------------------------


def _garbage_store(generation: Path) -> None:
    (generation / generations.STORE).write_bytes(b"this is not a database" * 500)


def _truncated_store(generation: Path) -> None:
    path = generation / generations.STORE
    path.write_bytes(path.read_bytes()[:5000])


def _truncated_embeddings(generation: Path) -> None:
    path = generation / generations.EMBEDDINGS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _missing_keywords(generation: Path) -> None:  # point 11: keyword search silently gone
    shutil.rmtree(generation / "keywords")


DAMAGE = [_garbage_store, _truncated_store, _truncated_embeddings, _missing_keywords]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", [["stats"], ["search", "olive oil"], ["ask", "olive oil prices"]])
def test_a_damaged_index_is_one_line_on_reading(built, capsys, damage, command):
    index_dir, _ = built
    damage(current(index_dir))
    status, _, err = run(capsys, index_dir, *command)
    assert status == 1
    line = one_line_error(err)
    assert "damaged" in line and str(index_dir) in line and "python -m index build" in line, line


@pytest.mark.parametrize("damage", [_garbage_store, _truncated_store, _truncated_embeddings])
def test_adding_to_a_damaged_index_is_one_line_and_a_build_repairs_it(built, capsys, damage):
    index_dir, articles = built
    damage(current(index_dir))
    write_articles(articles, NEW)
    status, _, err = run(capsys, index_dir, "add", articles)
    assert status == 1
    assert "damaged" in one_line_error(err)
    status, _, err = run(capsys, index_dir, "build", articles)
    assert status == 0, err
    assert article_count(capsys, index_dir) == 4


# 7. a dangling or missing CURRENT --------------------------------------------------------------------


def _point_current_at(index_dir: Path, name: str) -> None:
    os.remove(index_dir / generations.CURRENT)
    os.symlink(name, index_dir / generations.CURRENT)


@pytest.mark.parametrize("breakage", ["dangling", "missing"])
def test_a_broken_current_never_loses_the_last_complete_generation(built, capsys, breakage):
    index_dir, articles = built
    kept = current(index_dir)
    if breakage == "dangling":
        _point_current_at(index_dir, "gen-20000101T000000000000Z-dead")
    else:
        os.remove(index_dir / generations.CURRENT)
    assert article_count(capsys, index_dir) == 3  # read from the newest complete generation
    more = write_articles(articles.parent / "more", NEW)
    status, _, err = run(capsys, index_dir, "add", more)
    assert status == 0, err
    assert article_count(capsys, index_dir) == 4  # the new article added to the three, not an index of one
    assert kept.is_dir()  # not pruned by this build


def test_a_dangling_current_without_any_complete_generation_stops_add(built, capsys):
    index_dir, articles = built
    shutil.rmtree(current(index_dir))
    more = write_articles(articles.parent / "more", NEW)
    status, _, err = run(capsys, index_dir, "add", more)
    assert status == 1
    line = one_line_error(err)
    assert "CURRENT" in line and "python -m index build" in line, line
    status, _, err = run(capsys, index_dir, "build", articles)
    assert status == 0, err
    assert article_count(capsys, index_dir) == 3


# 11. a link left by a kill at the CURRENT replace ----------------------------------------------------


def test_a_stale_current_link_is_removed_by_the_next_build(built, capsys):
    index_dir, articles = built
    stale = index_dir / f".{generations.CURRENT}.0badf00d"
    os.symlink(current(index_dir).name, stale)
    status, _, err = run(capsys, index_dir, "build", articles)
    assert status == 0, err
    assert not stale.is_symlink()
    assert [path.name for path in index_dir.iterdir() if path.name.startswith(f".{generations.CURRENT}")] == []
