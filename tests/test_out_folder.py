"""Output folders of corpus runs (ctctool.io.out_folder): a local folder and one named by URI (pyarrow)."""

import pytest

from ctctool.errors import CtcToolError
from ctctool.io.out_folder import ArrowFolder, LocalFolder, is_uri, output_folder


def _folder(tmp_path, kind):
    if kind == "local":
        return LocalFolder(tmp_path / "local")
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the ray extra)")
    return ArrowFolder((tmp_path / "uri").as_uri())


@pytest.mark.parametrize("kind", ["local", "uri"])
def test_files_go_in_whole_and_are_listed_by_relative_name(tmp_path, kind):
    (tmp_path / kind).mkdir()
    folder = _folder(tmp_path, kind)
    folder.check("`out_dir`")
    folder.write_bytes("a.json", b"{}\n")
    folder.write_bytes("scores/b.json", b"[]\n")
    (tmp_path / kind / ".c.json.tmp").write_bytes(b"left by a crash")
    assert folder.names() == {"a.json", "scores/b.json"}
    assert folder.exists("scores/b.json") and not folder.exists("scores") and not folder.exists("x")
    assert folder.read_bytes("a.json") == b"{}\n"
    folder.remove("a.json")
    folder.remove("a.json")  # gone already: nothing to do
    assert folder.names() == {"scores/b.json"}
    assert sorted(p.name for p in (tmp_path / kind).iterdir()) == [".c.json.tmp", "scores"]  # no temporary left


def test_a_uri_names_an_arrow_folder_and_a_path_a_local_one(tmp_path):
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the ray extra)")
    assert is_uri("s3://bucket/x") and is_uri("file:///tmp") and not is_uri("/tmp/x") and not is_uri("C:x")
    assert isinstance(output_folder(tmp_path.as_uri()), ArrowFolder)
    assert isinstance(output_folder(str(tmp_path)), LocalFolder)


@pytest.mark.parametrize("kind", ["local", "uri"])
def test_a_missing_folder_is_made_when_the_folder_above_it_exists(tmp_path, kind):
    folder = _folder(tmp_path, kind)
    assert not (tmp_path / kind).exists()
    folder.check("`out_dir`")
    folder.check("`out_dir`")  # a second shard finds it made
    assert (tmp_path / kind).is_dir() and folder.names() == set()


@pytest.mark.parametrize("kind", ["local", "uri"])
def test_error_folder_above_missing(tmp_path, kind):
    if kind == "uri":
        pytest.importorskip("pyarrow", reason="pyarrow is not installed (the ray extra)")
    target = tmp_path / "typo" / "aligned"
    folder = LocalFolder(target) if kind == "local" else ArrowFolder(target.as_uri())
    shown = target if kind == "local" else target.as_uri()
    with pytest.raises(CtcToolError, match=f"^`out_dir` {shown}: folder {tmp_path / 'typo'} does not exist; "
                                           "create it first$"):
        folder.check("`out_dir`")
    assert not (tmp_path / "typo").exists()


def test_error_out_dir_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(CtcToolError, match=f"^`out_dir` {tmp_path / 'f'}: is not a folder$"):
        LocalFolder(tmp_path / "f").check("`out_dir`")


def test_error_uri_that_pyarrow_cannot_open():
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the ray extra)")
    with pytest.raises(CtcToolError, match="^nosuch://x/y: pyarrow cannot open this URI"):
        ArrowFolder("nosuch://x/y")
