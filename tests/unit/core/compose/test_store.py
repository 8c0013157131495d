"""TemplateStore: built-ins, a user directory that overrides and adds."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.scenarios import SCENARIOS, make_context

from followupd.adapters.templates import TemplateStore, resolve_template_dir
from followupd.core.templates import BUILTIN_NAMES, TemplateProblem, render
from followupd.errors import TemplateError

MINE = "description: Mine\nsubject: Hello {{ company }}\n---\nHi {{ greeting_name }}, thanks!\n"


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    path = tmp_path / "templates"
    path.mkdir()
    return path


class TestBuiltins:
    """Without a user directory the four built-ins are there."""

    def test_names(self) -> None:
        store = TemplateStore(None)
        assert store.names() == sorted(BUILTIN_NAMES)
        for name in BUILTIN_NAMES:
            source = store.source(name)
            assert store.is_builtin(name)
            assert source.path_label == "built-in" and source.text.strip()

    def test_missing_directory_is_fine(self, tmp_path: Path) -> None:
        assert TemplateStore(tmp_path / "nope").names() == sorted(BUILTIN_NAMES)

    def test_unknown_name(self) -> None:
        with pytest.raises(TemplateError, match="available: checkin"):
            TemplateStore(None).source("nope")

    @pytest.mark.parametrize("name", ["../config", "a/b", "", ".hidden", "x.j2", "a b"])
    def test_unsafe_names(self, name: str, user_dir: Path) -> None:
        store = TemplateStore(user_dir)
        with pytest.raises(TemplateError, match="not a template name"):
            store.source(name)
        with pytest.raises(TemplateError):
            store.user_path(name)


class TestUserDirectory:
    """A user file replaces a built-in of its name or adds a template."""

    def test_override_and_add(self, user_dir: Path) -> None:
        (user_dir / "thank_you.j2").write_text(MINE, encoding="utf-8")
        (user_dir / "agency.j2").write_text(MINE.replace("Hello", "Agency"), encoding="utf-8")
        (user_dir / "notes.txt").write_text("ignored", encoding="utf-8")
        (user_dir / "bad name.j2").write_text("ignored", encoding="utf-8")
        store = TemplateStore(user_dir)
        assert store.names() == sorted([*BUILTIN_NAMES, "agency"])
        assert store.source("thank_you").path_label == str(user_dir / "thank_you.j2")
        assert store.is_builtin("thank_you")
        assert not store.is_builtin("agency")
        context = make_context(SCENARIOS[0])
        mine = store.source("thank_you")
        assert mine.path_label == str(user_dir / "thank_you.j2")
        assert render(mine, context).subject == "Hello Northwind Traders"
        assert render(store.source("agency"), context).subject == "Agency Northwind Traders"
        assert store.source("panel").path_label == "built-in"

    def test_undefined_variable_names_template_and_line(self, user_dir: Path) -> None:
        (user_dir / "agency.j2").write_text(
            "subject: Hi\n---\nHello {{ greeting_name }},\n\nI liked {{ intervew.title }}.\n",
            encoding="utf-8",
        )
        source = TemplateStore(user_dir).source("agency")
        with pytest.raises(TemplateProblem) as caught:
            render(source, make_context(SCENARIOS[0]))
        assert caught.value.template == "agency" and caught.value.line == 5
        assert str(user_dir / "agency.j2") in str(caught.value)
        assert "intervew" in str(caught.value)

    def test_not_utf8(self, user_dir: Path) -> None:
        (user_dir / "latin.j2").write_bytes("subject: Grüße\n---\n".encode("latin-1"))
        with pytest.raises(TemplateError, match="not UTF-8"):
            TemplateStore(user_dir).source("latin")

    def test_bom_is_ignored(self, user_dir: Path) -> None:
        (user_dir / "bom.j2").write_bytes("\ufeffsubject: s\n---\nb\n".encode())
        source = TemplateStore(user_dir).source("bom")
        assert render(source, {}).subject == "s"

    def test_huge_file_refused(self, user_dir: Path) -> None:
        (user_dir / "big.j2").write_bytes(b"subject: s\n---\n" + b"x" * 300_000)
        with pytest.raises(TemplateError, match="KiB"):
            TemplateStore(user_dir).source("big")


class TestEdit:
    """`templates edit` gets a path, with the built-in copied there first."""

    def test_user_path(self, user_dir: Path) -> None:
        assert TemplateStore(user_dir).user_path("panel") == user_dir / "panel.j2"
        with pytest.raises(TemplateError, match="template_dir"):
            TemplateStore(None).user_path("panel")

    def test_copy_builtin_then_keep_edits(self, tmp_path: Path) -> None:
        store = TemplateStore(tmp_path / "new" / "templates")
        path = store.copy_for_edit("panel")
        assert path.read_text(encoding="utf-8") == store.builtin_text("panel")
        path.write_text(MINE, encoding="utf-8")
        assert store.copy_for_edit("panel") == path
        assert path.read_text(encoding="utf-8") == MINE  # never overwritten
        assert store.source("panel").text == MINE

    def test_new_name_starts_from_thank_you(self, user_dir: Path) -> None:
        store = TemplateStore(user_dir)
        path = store.copy_for_edit("recruiter")
        assert path.read_text(encoding="utf-8") == store.builtin_text("thank_you")
        assert "recruiter" in store.names()


def test_resolve_template_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "cfg"
    assert resolve_template_dir("", config) == config / "templates"
    assert resolve_template_dir("mine", config) == config / "mine"
    assert resolve_template_dir("~/t", config) == tmp_path / "t"
    assert resolve_template_dir("/abs/t", config) == Path("/abs/t")
