"""Property-based tests (hypothesis) for the file readers.

The project rule for every reader: it returns a correct value, or it raises
:class:`CtcToolError` with a one-line message that names the file; never another
exception type, never a large allocation because a header lies, never a hang.
Valid variants of a format (byte orders, memory orders, compression, BOMs, CRLF)
are accepted and read back exactly.

Hypothesis and function-scoped fixtures do not mix, so each example works in its
own ``tempfile.TemporaryDirectory()``.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import pickle
import re
import tempfile
import time
import tracemalloc
import unicodedata
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ctctool.audio.loading import load_audio
from ctctool.errors import CtcToolError
from ctctool.io.arrays import load_scores
from ctctool.io.text import read_lines, read_text
from ctctool.lm.arpa import read_arpa

# No example database (nothing written to the work tree) and no "explain" phase (slow on failures).
PHASES = (Phase.explicit, Phase.generate, Phase.target, Phase.shrink)
FAST = settings(max_examples=40, deadline=None, database=None, phases=PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
QUICK = settings(FAST, max_examples=25)


# --- shared helpers --------------------------------------------------------------------


@contextmanager
def workdir():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def check_message(exc: BaseException, path: Path) -> str:
    """The message of a reader's CtcToolError: one line that names ``path``."""
    assert type(exc) is CtcToolError or isinstance(exc, CtcToolError), repr(exc)
    message = str(exc)
    assert str(path) in message, f"message does not name {path}: {message!r}"
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"
    return message


def result_or_error(read, path: Path, *args, **kwargs):
    """``read(path, ...)``; a CtcToolError must name the file (returns None then). Any
    other exception propagates and fails the test."""
    try:
        return read(path, *args, **kwargs)
    except CtcToolError as exc:
        check_message(exc, path)
        return None


def expect_error(read, path: Path, *args, **kwargs) -> str:
    """``read(path, ...)`` must raise a CtcToolError naming ``path``; returns its message."""
    try:
        value = read(path, *args, **kwargs)
    except CtcToolError as exc:
        return check_message(exc, path)
    raise AssertionError(f"{read.__name__}({path.name}) returned {value!r} instead of raising CtcToolError")


def line_numbers(message: str) -> list[int]:
    return [int(n) for n in re.findall(r"\bline (\d+)\b", message)]


class Marker:
    """Pickles as a call that creates ``path``: proof that a reader unpickled it."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- arrays: load_scores ---------------------------------------------------------------

NP_FLOATS = (np.float16, np.float32, np.float64)
array_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s != "input_lengths")


@st.composite
def score_arrays(draw, dtypes=NP_FLOATS):
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=5))
    return draw(hnp.arrays(dtype, shape))  # NaN, +-inf, subnormals, -0.0 included


def assert_same_array(loaded, expected: np.ndarray):
    values = loaded.values
    assert isinstance(values, torch.Tensor)
    native = expected.astype(expected.dtype.newbyteorder("="))
    torch.testing.assert_close(values, torch.from_numpy(np.ascontiguousarray(native)), rtol=0, atol=0,
                               equal_nan=True)


def with_layout(array: np.ndarray, byte_order: str, fortran: bool) -> np.ndarray:
    stored = array.astype(array.dtype.newbyteorder(byte_order))
    return np.asfortranarray(stored) if fortran else np.ascontiguousarray(stored)


@FAST
@given(array=score_arrays(), byte_order=st.sampled_from(["<", ">", "="]), fortran=st.booleans())
def test_npy_round_trip_any_byte_and_memory_order(array, byte_order, fortran):
    with workdir() as tmp:
        path = tmp / "scores.npy"
        np.save(path, with_layout(array, byte_order, fortran))
        assert_same_array(load_scores(path), array)


@FAST
@given(array=score_arrays(), fortran=st.booleans())
def test_npy_round_trip_native_order(array, fortran):
    with workdir() as tmp:
        path = tmp / "scores.npy"
        np.save(path, with_layout(array, "=", fortran))
        assert_same_array(load_scores(path), array)


@FAST
@given(array=score_arrays(), name=array_names, compressed=st.booleans(), byte_order=st.sampled_from(["<", ">"]),
       fortran=st.booleans())
def test_npz_single_array_round_trip(array, name, compressed, byte_order, fortran):
    with workdir() as tmp:
        path = tmp / "scores.npz"
        (np.savez_compressed if compressed else np.savez)(path, **{name: with_layout(array, byte_order, fortran)})
        assert_same_array(load_scores(path), array)


@FAST
@given(arrays=st.lists(score_arrays(), min_size=2, max_size=4), names=st.lists(array_names, min_size=4, max_size=4,
       unique=True), pick=st.integers(0, 3), compressed=st.booleans())
def test_npz_several_arrays_round_trip_with_key(arrays, names, pick, compressed):
    pick %= len(arrays)
    with workdir() as tmp:
        path = tmp / "scores.npz"
        (np.savez_compressed if compressed else np.savez)(path, **dict(zip(names, arrays)))
        assert_same_array(load_scores(path, key=names[pick]), arrays[pick])


@FAST
@given(array=score_arrays(), transposed=st.booleans(), suffix=st.sampled_from([".pt", ".pth"]))
def test_pt_tensor_round_trip(array, transposed, suffix):
    with workdir() as tmp:
        path = tmp / f"scores{suffix}"
        tensor = torch.from_numpy(array.copy())
        if transposed:  # a non-contiguous view is saved as such
            tensor = tensor.transpose(0, 1)
            array = array.swapaxes(0, 1)
        torch.save(tensor, path)
        assert_same_array(load_scores(path), array)


@FAST
@given(arrays=st.lists(score_arrays(), min_size=1, max_size=4), names=st.lists(array_names, min_size=4, max_size=4,
       unique=True), pick=st.integers(0, 3))
def test_pt_dict_round_trip_with_key(arrays, names, pick):
    pick %= len(arrays)
    with workdir() as tmp:
        path = tmp / "scores.pt"
        torch.save({n: torch.from_numpy(a.copy()) for n, a in zip(names, arrays)}, path)
        assert_same_array(load_scores(path, key=names[pick]), arrays[pick])


def valid_array_file(tmp: Path, array: np.ndarray, fmt: str) -> Path:
    if fmt == "npy":
        path = tmp / "scores.npy"
        np.save(path, array)
    elif fmt == "npz":
        path = tmp / "scores.npz"
        np.savez(path, logits=array)
    elif fmt == "npz-compressed":
        path = tmp / "scores.npz"
        np.savez_compressed(path, logits=array)
    else:
        path = tmp / "scores.pt"
        torch.save({"logits": torch.from_numpy(array)}, path)
    return path


ARRAY_FORMATS = ["npy", "npz", "npz-compressed", "pt"]


@FAST
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".npy", ".npz", ".pt"]),
       prefix=st.sampled_from([b"", b"\x93NUMPY", b"PK\x03\x04", b"\x80\x02"]))
def test_arrays_random_bytes_raise_ctctool_error(data, suffix, prefix):
    with workdir() as tmp:
        path = tmp / f"junk{suffix}"
        path.write_bytes(prefix + data)
        result_or_error(load_scores, path)


@FAST
@given(array=score_arrays(dtypes=(np.float32,)), fmt=st.sampled_from(ARRAY_FORMATS), cut=st.floats(0, 1,
       exclude_max=True))
def test_arrays_truncated_file_raises_ctctool_error(array, fmt, cut):
    with workdir() as tmp:
        path = valid_array_file(tmp, array, fmt)
        data = path.read_bytes()
        path.write_bytes(data[: int(cut * len(data))])
        expect_error(load_scores, path)


@FAST
@given(array=score_arrays(dtypes=(np.float32,)), fmt=st.sampled_from(ARRAY_FORMATS),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3))
@example(
    array=np.array([[0., 0., 0., 0.]], dtype=np.float32),
    fmt='npy',
    flips=[(0.0703125, 0)],
).via('discovered failure')
def test_arrays_corrupted_bytes_load_or_raise_ctctool_error(array, fmt, flips):
    with workdir() as tmp:
        path = valid_array_file(tmp, array, fmt)
        data = bytearray(path.read_bytes())
        for where, value in flips:
            data[int(where * len(data))] = value
        path.write_bytes(bytes(data))
        result_or_error(load_scores, path)


@pytest.mark.parametrize("fmt", ARRAY_FORMATS)
@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pt"])
def test_arrays_content_under_another_suffix_loads_or_raises_ctctool_error(fmt, suffix):
    with workdir() as tmp:
        array = np.arange(6, dtype=np.float32).reshape(2, 3)
        path = valid_array_file(tmp, array, fmt)
        path = path.rename(tmp / f"renamed{suffix}")
        loaded = result_or_error(load_scores, path)
        if loaded is not None:
            assert_same_array(loaded, array)


def lying_npy_bytes(shape, descr: str, fortran: bool, payload: int) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    return out.getvalue() + b"\0" * payload


# one dimension of 10**8 .. 10**13 elements, up to two more of up to 1000: 0.1 GB to far beyond any memory
huge_shapes = st.tuples(st.integers(10**8, 10**13), st.lists(st.integers(1, 1000), max_size=2), st.integers(0, 2)).map(
    lambda t: t[1][: t[2]] + [t[0]] + t[1][t[2]:])


# Examples are simple already, and a failing one can allocate gigabytes: no shrinking.
@settings(QUICK, phases=(Phase.explicit, Phase.generate))
@given(shape=huge_shapes, descr=st.sampled_from(["<f4", "<f8", ">f2", "<i8"]), fortran=st.booleans(),
       payload=st.integers(0, 64), container=st.sampled_from(["npy", "npz", "npz-compressed"]))
def test_arrays_lying_header_raises_without_allocating(shape, descr, fortran, payload, container):
    with workdir() as tmp:
        member = lying_npy_bytes(shape, descr, fortran, payload)
        if container == "npy":
            path = tmp / "huge.npy"
            path.write_bytes(member)
        else:
            path = tmp / "huge.npz"
            method = zipfile.ZIP_DEFLATED if container == "npz-compressed" else zipfile.ZIP_STORED
            with zipfile.ZipFile(path, "w", compression=method) as archive:
                archive.writestr("logits.npy", member)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            expect_error(load_scores, path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert time.perf_counter() - start < 2.0
        assert peak < 64 * 2**20, f"reading a {path.stat().st_size}-byte file allocated {peak / 2**20:.0f} MiB"


def test_npy_header_declaring_36_tib_raises_ctctool_error():
    with workdir() as tmp:
        path = tmp / "huge.npy"
        path.write_bytes(lying_npy_bytes((10**7, 10**6), "<f4", False, 8))
        expect_error(load_scores, path)


@pytest.mark.parametrize("fmt", ["npy", "npz", "pt", "pickle-as-npy"])
def test_pickled_contents_are_refused_and_never_executed(fmt):
    with workdir() as tmp:
        marker = tmp / "EXECUTED"
        payload = np.array([Marker(marker), 1.0], dtype=object)
        if fmt == "npy":
            path = tmp / "scores.npy"
            np.save(path, payload, allow_pickle=True)
        elif fmt == "npz":
            path = tmp / "scores.npz"
            np.savez(path, logits=payload)
        elif fmt == "pt":
            path = tmp / "scores.pt"
            torch.save({"logits": Marker(marker)}, path)
        else:
            path = tmp / "scores.npy"
            path.write_bytes(pickle.dumps(Marker(marker)))
        assert not marker.exists()
        expect_error(load_scores, path)
        assert not marker.exists(), f"loading {path.name} ran pickled code"


@pytest.mark.parametrize("numel", [2**31 - 1, 10**9])
def test_pt_storage_declaring_more_elements_than_its_record_raises(numel):
    """A .pt zip whose pickle declares a storage of ``numel`` elements over a 70000-element record."""
    buffer = io.BytesIO()
    torch.save(torch.zeros(70000), buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    needle = b"J" + (70000).to_bytes(4, "little")  # BININT 70000: the storage's numel and the tensor's size
    with workdir() as tmp:
        path = tmp / "lying.pt"
        with zipfile.ZipFile(path, "w") as out:
            for name in source.namelist():
                data = source.read(name)
                if name.endswith("data.pkl"):
                    assert needle in data
                    data = data.replace(needle, b"J" + numel.to_bytes(4, "little"))
                out.writestr(name, data)
        start = time.perf_counter()
        expect_error(load_scores, path)
        assert time.perf_counter() - start < 2.0


@QUICK
@given(length=st.integers(2**31, 2**62), opcode=st.sampled_from([b"B", b"X", b"\x8e", b"\x8d"]))
def test_pt_legacy_pickle_declaring_huge_string_raises_quickly(length, opcode):
    # A legacy (non-zip) .pt file is a pickle stream; BINBYTES/BINUNICODE(8) carry a length.
    with workdir() as tmp:
        path = tmp / "scores.pt"
        width = 8 if opcode in (b"\x8e", b"\x8d") else 4
        length = min(length, 2 ** (8 * width) - 1)
        path.write_bytes(b"\x80\x02" + opcode + length.to_bytes(width, "little") + b"abc")
        start = time.perf_counter()
        expect_error(load_scores, path)
        assert time.perf_counter() - start < 2.0


# --- text: read_text, read_lines -------------------------------------------------------


@FAST
@given(text=st.text(max_size=60), bom=st.booleans())
def test_read_text_round_trips_utf8(text, bom):
    with workdir() as tmp:
        path = tmp / "text.txt"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        # A leading U+FEFF is the BOM: dropped (once) whether we wrote one or the text began with one.
        expected = text[1:] if not bom and text.startswith("\ufeff") else text
        assert read_text(path) == expected


line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12)


@FAST
@given(lines=st.lists(line_text, max_size=8), endings=st.lists(st.sampled_from(["\n", "\r\n"]), min_size=8,
       max_size=8), terminated=st.booleans(), bom=st.booleans())
def test_read_lines_round_trips_lf_and_crlf(lines, endings, terminated, bom):
    assume(not lines or not lines[0].startswith("\ufeff"))
    body = "".join(line + endings[i] for i, line in enumerate(lines[:-1]))
    if lines:
        body += lines[-1] + (endings[len(lines) - 1] if terminated else "")
    expected = lines[:-1] if lines and not terminated and lines[-1] == "" else lines
    with workdir() as tmp:
        path = tmp / "lines.txt"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
        assert read_lines(path) == expected


mixed_bytes = st.lists(st.one_of(st.binary(max_size=6), st.text(max_size=6).map(lambda s: s.encode("utf-8"))),
                       max_size=8).map(b"\n".join)


def first_bad_line(data: bytes) -> int | None:
    """1-based line of the first invalid UTF-8: '\\n' is ASCII, so each line decodes on its own."""
    for number, piece in enumerate(data.split(b"\n"), start=1):
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


@FAST
@given(data=mixed_bytes, bom=st.booleans())
def test_read_text_arbitrary_bytes_text_or_error_naming_the_line(data, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + data
    with workdir() as tmp:
        path = tmp / "any.txt"
        path.write_bytes(data)
        bad = first_bad_line(data)
        if bad is None:
            text = data.decode("utf-8-sig")
            assert read_text(path) == text
            pieces = text.split("\n")
            if pieces[-1] == "":  # the newline that ends the last line, or an empty file
                pieces.pop()
            assert read_lines(path) == [piece.removesuffix("\r") for piece in pieces]
        else:
            for read in (read_text, read_lines):
                message = expect_error(read, path)
                assert line_numbers(message) == [bad], message


def test_read_text_missing_file_and_folder_raise_ctctool_error():
    with workdir() as tmp:
        expect_error(read_text, tmp / "missing.txt")
        folder = tmp / "folder.txt"
        folder.mkdir()
        expect_error(read_lines, folder)


# --- ARPA: read_arpa -------------------------------------------------------------------


def arpa_word(s: str) -> bool:
    return s.split() == [s] and not s.startswith("\\") and s.isprintable()


words = st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=5).filter(arpa_word)
log10_probs = st.floats(-99.0, 0.0, allow_nan=False)
backoffs = st.floats(-20.0, 20.0, allow_nan=False)


@st.composite
def arpa_models(draw):
    """(order, {ngram: (prob, backoff or None)}) of a small consistent back-off model."""
    order = draw(st.integers(1, 3))
    vocab = draw(st.lists(words, min_size=1, max_size=6, unique=True))
    grams: dict[tuple[str, ...], tuple[float, float | None]] = {}

    def entry(n):
        return draw(log10_probs), (draw(st.one_of(st.none(), backoffs)) if n < order else None)

    for w in vocab:
        grams[(w,)] = entry(1)
    if order >= 2:
        pairs = draw(st.lists(st.tuples(st.sampled_from(vocab), st.sampled_from(vocab)), min_size=1, max_size=8,
                              unique=True))
        if order == 3 and not any(b == c for (_, b) in pairs for (c, _) in pairs):
            pairs.append((pairs[0][1], pairs[0][1]))  # so that some trigram has both its bigrams
        for p in pairs:
            grams[p] = entry(2)
    if order == 3:
        chains = sorted({(a, b, d) for (a, b) in pairs for (c, d) in pairs if b == c})
        triples = draw(st.lists(st.sampled_from(chains), min_size=1, max_size=8, unique=True))
        for t in triples:
            grams[t] = entry(3)
    return order, grams


@st.composite
def arpa_styles(draw):
    return {
        "sep": draw(st.sampled_from(["\t", " ", "  "])),
        "eol": draw(st.sampled_from(["\n", "\r\n"])),
        "blank": draw(st.booleans()),
    }


def arpa_lines(order, grams, style):
    """The file's lines, and where things are: {'count': {n: index}, 'grams': [index...], 'end': index}."""
    sep, where = style["sep"], {"count": {}, "grams": [], "end": None}
    lines = ["\\data\\"]
    for n in range(1, order + 1):
        where["count"][n] = len(lines)
        lines.append(f"ngram {n}={sum(len(g) == n for g in grams)}")
    for n in range(1, order + 1):
        if style["blank"]:
            lines.append("")
        lines.append(f"\\{n}-grams:")
        for g, (prob, backoff) in grams.items():
            if len(g) == n:
                where["grams"].append(len(lines))
                lines.append(f"{prob!r}{sep}{' '.join(g)}" + (f"{sep}{backoff!r}" if backoff is not None else ""))
    if style["blank"]:
        lines.append("")
    where["end"] = len(lines)
    lines.append("\\end\\")
    return lines, where


def write_arpa_text(path: Path, lines, style, compress=False):
    data = "".join(line + style["eol"] for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)


@FAST
@given(model=arpa_models(), style=arpa_styles(), compress=st.booleans())
def test_arpa_valid_models_load_exactly(model, style, compress):
    order, grams = model
    lines, _ = arpa_lines(order, grams, style)
    with workdir() as tmp:
        path = tmp / ("model.arpa.gz" if compress else "model.arpa")
        write_arpa_text(path, lines, style, compress)
        loaded = read_arpa(path)
    assert loaded.order == order
    assert loaded.ngrams == {g: (p, 0.0 if b is None else b) for g, (p, b) in grams.items()}


@st.composite
def mutated_arpa(draw, kinds):
    """A valid model plus one mutation: (lines, style, line number the message must name or None, kind)."""
    order, grams = draw(arpa_models())
    style = draw(arpa_styles())
    lines, where = arpa_lines(order, grams, style)
    kind = draw(st.sampled_from(kinds))
    # 0-based index of the line the message must name when one line is to blame; "any" when the message must
    # name some line (a count that disagrees with its section); None for a file cut short, where the missing
    # part has no line (the message names the file)
    line = None
    if kind == "count changed":
        line = "any"
        n = draw(st.integers(1, order))
        index = where["count"][n]
        count = int(lines[index].split("=")[1])
        new = draw(st.integers(0, count + 5).filter(lambda c: c != count))
        lines[index] = f"ngram {n}={new}"
    elif kind == "count not an integer":
        n = draw(st.integers(1, order))
        line = index = where["count"][n]
        bad = draw(st.sampled_from(["x", "1.5", "", "-", "5a", "1e3", "0x10", "nan", "=3"]))
        lines[index] = f"ngram {n}={bad}"
    elif kind == "order not an integer":
        n = draw(st.integers(1, order))
        line = index = where["count"][n]
        count = lines[index].split("=")[1]
        lines[index] = f"ngram {draw(st.sampled_from(['x', '1.0', '', 'two']))}={count}"
    elif kind in ("prob not finite or positive", "backoff not finite"):
        candidates = where["grams"]
        if kind == "backoff not finite":
            candidates = [i for i in candidates if len(lines[i].split()) == len(grams_of(lines[i], grams)) + 2]
            assume(candidates)
        line = index = draw(st.sampled_from(candidates))
        fields = lines[index].split()
        bad = draw(st.sampled_from(["nan", "NaN", "inf", "+inf", "Infinity"]) | st.floats(1e-6, 1e6).map(repr))
        if kind == "backoff not finite":
            assume(not (0 < float(bad) < math.inf))  # a positive finite back-off weight is legal
            fields[-1] = bad
        else:
            fields[0] = bad
        lines[index] = " ".join(fields)
    elif kind == "truncated":
        text = "\n".join(lines)
        cut = draw(st.integers(0, len(text) - 1))  # strictly before the last character of \end\
        lines = text[:cut].split("\n")
    elif kind == "no end":
        del lines[where["end"]]
    elif kind == "too few fields":
        line = index = draw(st.sampled_from(where["grams"]))
        fields = lines[index].split()
        n = len(grams_of(lines[index], grams))
        lines[index] = " ".join(fields[: draw(st.integers(1, n))])
    return lines, style, (line + 1 if isinstance(line, int) else line), kind


def grams_of(line: str, grams) -> tuple[str, ...]:
    fields = line.split()
    for n in (3, 2, 1):
        if tuple(fields[1 : n + 1]) in grams and len(fields) in (n + 1, n + 2):
            return tuple(fields[1 : n + 1])
    raise AssertionError(line)


def check_arpa_mutation(lines, style, line, kind):
    with workdir() as tmp:
        path = tmp / "model.arpa"
        write_arpa_text(path, lines, style)
        message = expect_error(read_arpa, path)
        numbers = line_numbers(message)
        if line == "any":
            assert numbers, f"{kind}: message names no line: {message!r}"
        elif line is not None:
            assert numbers == [line], f"{kind}: expected line {line}: {message!r}"


@pytest.mark.parametrize("kinds", [
    ["too few fields"],
    ["count not an integer", "order not an integer"],
    ["prob not finite or positive"],
    ["backoff not finite"],
    ["count changed"],
    ["truncated", "no end"],
], ids=lambda kinds: "+".join(kinds).replace(" ", "-"))
@FAST
@given(data=st.data())
def test_arpa_mutation_is_an_error_naming_the_file_and_line(kinds, data):
    check_arpa_mutation(*data.draw(mutated_arpa(kinds)))


@FAST
@given(model=arpa_models(), cut=st.floats(0, 1, exclude_max=True))
def test_arpa_truncated_gzip_raises_ctctool_error(model, cut):
    order, grams = model
    lines, _ = arpa_lines(order, grams, {"sep": "\t", "eol": "\n", "blank": True})
    with workdir() as tmp:
        path = tmp / "model.arpa.gz"
        write_arpa_text(path, lines, {"eol": "\n"}, compress=True)
        data = path.read_bytes()
        path.write_bytes(data[: int(cut * len(data))])
        expect_error(read_arpa, path)


@FAST
@given(data=st.binary(max_size=200) | mixed_bytes, prefix=st.sampled_from([b"", b"\x1f\x8b", b"\\data\\\n"]))
def test_arpa_random_bytes_raise_ctctool_error(data, prefix):
    with workdir() as tmp:
        path = tmp / "junk.arpa"
        path.write_bytes(prefix + data)
        result_or_error(read_arpa, path)


# --- manifest: read_manifest_items, read_items -----------------------------------------

# Strings for paths, texts and ids: any letters, digits, punctuation, symbols, spaces and control characters
# (Cc: NUL, newline, ...); no Cf/Zl/Zp characters, whose place in the id rule is left to the library.
strings = st.text(st.characters(categories=("L", "N", "P", "S", "Zs", "Cc")), max_size=6)
json_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**20), st.floats(allow_nan=False), strings,
                        st.lists(st.integers(), max_size=2), st.just({"a": 1}))
id_values = st.one_of(json_values, st.sampled_from(
    ["", ".", "..", ".hidden", "a/b", "a\\b", "a\0b", "a\nb", "a\tb", "x", "x", "y", " x", "utt-1", "é", "a" * 200,
     "a" * 201]))
audio_values = st.one_of(st.sampled_from(["a.wav", "sub/b.wav", "/abs/c.wav", "x.wav", "x.flac", ".", "..", "",
                                          "  ", "d/.wav"]), json_values)


good_ids = st.from_regex(r"[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,5}", fullmatch=True)
good_audio = st.tuples(st.sampled_from(["", "sub/", "/abs/", "../up/"]), good_ids,
                       st.sampled_from([".wav", ".flac", ""])).map("".join)


@st.composite
def manifest_lines(draw):
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["good", "good", "good", "item", "item", "junk", "blank", "not an object"]))
        if kind == "junk":
            lines.append(draw(st.sampled_from(["{", "not json", "[1,", '{"a": }', "nul\0l", '{"text": "a"} x'])))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "   ", "\t"])))
        elif kind == "not an object":
            lines.append(json.dumps(draw(json_values.filter(lambda v: not isinstance(v, dict)))))
        elif kind == "good":  # well-typed fields, so that ids and their uniqueness decide
            item = {"audio_filepath": draw(good_audio), "text": draw(strings)}
            if draw(st.booleans()):
                item["id"] = draw(st.one_of(id_values, st.integers(0, 20), good_ids))
            lines.append(json.dumps(item, ensure_ascii=draw(st.booleans())))
        else:
            item = {}
            if draw(st.integers(0, 9)):
                item["audio_filepath"] = draw(audio_values)
            if draw(st.integers(0, 9)):
                item["text"] = draw(st.one_of(strings, json_values))
            if draw(st.booleans()):
                item["id"] = draw(id_values)
            keys = draw(st.permutations(list(item)))
            lines.append(json.dumps({k: item[k] for k in keys}, ensure_ascii=draw(st.booleans())))
    return lines


def id_allowed(item_id: str) -> bool:
    """The module docstring's rule: a plain file name: not empty, no '/', '\\' or control characters, not
    starting with '.', at most 200 characters."""
    return (item_id != "" and "/" not in item_id and "\\" not in item_id and not item_id.startswith(".")
            and not any(unicodedata.category(c) == "Cc" for c in item_id) and len(item_id) <= 200)


def expected_manifest(lines, path: Path):
    """(items as (line, id, audio, text), rejected line numbers), from the documented rules."""
    items, rejected, taken = [], [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            rejected.append(number)
            continue
        if not (isinstance(obj, dict) and isinstance(obj.get("audio_filepath"), str)
                and isinstance(obj.get("text"), str) and obj["audio_filepath"].strip()):
            rejected.append(number)
            continue
        audio = Path(obj["audio_filepath"])
        audio = audio if audio.is_absolute() else path.parent / audio
        item_id = obj.get("id", audio.stem)
        if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
            rejected.append(number)
            continue
        item_id = str(item_id)
        if not id_allowed(item_id) or item_id in taken:
            rejected.append(number)
            continue
        taken.add(item_id)
        items.append((number, item_id, audio, obj["text"]))
    return items, rejected


def manifest_api():
    from ctctool.io import manifest

    if not hasattr(manifest, "read_manifest_items"):
        pytest.fail("ctctool.io.manifest.read_manifest_items does not exist (yet)")
    return manifest


def write_manifest(path: Path, lines, eol="\n", bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "".join(line + eol for line in lines).encode("utf-8"))


@FAST
@given(lines=manifest_lines(), eol=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_manifest_every_line_is_an_item_or_a_rejection(lines, eol, bom):
    manifest = manifest_api()
    with workdir() as tmp:
        path = tmp / "manifest.jsonl"
        write_manifest(path, lines, eol, bom)
        result = manifest.read_manifest_items(path)
    expected_items, expected_rejected = expected_manifest(lines, path)
    for item in result.items:
        assert str(path) in item.where and len(line_numbers(item.where)) == 1, item
        assert isinstance(item.text, str) and isinstance(item.id, str) and isinstance(item.audio, Path), item
    assert [(line_numbers(i.where)[0], i.id, i.audio, i.text) for i in result.items] == expected_items, lines
    for entry in result.rejected:
        assert str(path) in entry.where and str(path) in entry.error, entry
        assert isinstance(entry.error, str) and "\n" not in entry.error and "\r" not in entry.error, entry
        assert line_numbers(entry.where) == line_numbers(entry.error)[:1] and len(line_numbers(entry.where)) == 1
    assert [line_numbers(r.where)[0] for r in result.rejected] == expected_rejected, (lines, result.rejected)


@FAST
@given(lines=manifest_lines())
def test_manifest_read_items_raises_for_the_first_rejected_item(lines):
    manifest = manifest_api()
    with workdir() as tmp:
        path = tmp / "manifest.jsonl"
        write_manifest(path, lines)
        result = manifest.read_manifest_items(path)
        if result.rejected:
            message = expect_error(manifest.read_items, path)
            first = min(line_numbers(r.where)[0] for r in result.rejected)
            assert line_numbers(message)[:1] == [first], message
        else:
            assert manifest.read_items(path) == list(result.items)


@FAST
@given(data=mixed_bytes, prefix=st.sampled_from([b"", b'{"audio_filepath": "a.wav", "text": "x"}\n']))
def test_manifest_arbitrary_bytes_never_raise_anything_else(data, prefix):
    manifest = manifest_api()
    with workdir() as tmp:
        path = tmp / "manifest.jsonl"
        path.write_bytes(prefix + data)
        result_or_error(manifest.read_manifest_items, path)
        result_or_error(manifest.read_items, path)


# --- audio: load_audio -----------------------------------------------------------------

RATES = [8000, 16000, 22050, 44100, 48000]


@st.composite
def recordings(draw):
    channels = draw(st.sampled_from([1, 2]))
    frames = draw(st.integers(1, 1500))
    subtype = draw(st.sampled_from(["PCM_16", "FLOAT"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if subtype == "PCM_16":
        samples = rng.integers(-32768, 32768, size=(frames, channels), dtype=np.int16)
        as_float = samples.astype(np.float64) / 32768
    else:
        samples = rng.uniform(-1, 1, size=(frames, channels)).astype(np.float32)
        if draw(st.booleans()):
            samples[: draw(st.integers(0, frames))] = 0.0  # silence, exact zeros
        as_float = samples.astype(np.float64)
    return samples, as_float.mean(axis=1), subtype, draw(st.sampled_from(RATES))


@FAST
@given(recording=recordings(), target=st.sampled_from(RATES), fmt=st.sampled_from(["wav", "flac"]))
def test_load_audio_mono_at_the_requested_rate(recording, target, fmt):
    samples, mono, subtype, rate = recording
    if fmt == "flac" and subtype == "FLOAT":
        fmt = "wav"
    with workdir() as tmp:
        path = tmp / f"audio.{fmt}"
        soundfile.write(path, samples, rate, subtype=subtype)
        audio = load_audio(path, target)
    assert isinstance(audio, torch.Tensor) and audio.dtype == torch.float32 and audio.dim() == 1
    assert abs(audio.numel() - len(mono) * target / rate) <= 1, (audio.numel(), len(mono), rate, target)
    assert bool(torch.isfinite(audio).all())
    if target == rate:
        np.testing.assert_allclose(audio.numpy(), mono, rtol=0, atol=1e-6)


@FAST
@given(data=st.binary(max_size=200), prefix=st.sampled_from([b"", b"RIFF", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"fLaC",
                                                             b"OggS"]), suffix=st.sampled_from([".wav", ".flac"]))
def test_load_audio_random_bytes_raise_ctctool_error(data, prefix, suffix):
    with workdir() as tmp:
        path = tmp / f"junk{suffix}"
        path.write_bytes(prefix + data)
        result_or_error(load_audio, path, 16000)


@FAST
@given(recording=recordings(), cut=st.floats(0, 1, exclude_max=True))
def test_load_audio_wav_truncated_in_its_header_raises_ctctool_error(recording, cut):
    with workdir() as tmp:
        path, data, header = written_wav(tmp, recording)
        path.write_bytes(data[: int(cut * header)])
        expect_error(load_audio, path, recording[3])


def written_wav(tmp: Path, recording) -> tuple[Path, bytes, int]:
    """``recording`` written as ``tmp/audio.wav``: its path, its bytes and where its samples start."""
    samples, _, subtype, rate = recording
    path = tmp / "audio.wav"
    soundfile.write(path, samples, rate, subtype=subtype)
    data = path.read_bytes()
    return path, data, data.index(b"data") + 8


@FAST
@given(recording=recordings(), cut=st.floats(0, 1, exclude_min=True, exclude_max=True))
@example(
    recording=(np.array([[  607],
            [22978]], dtype=np.int16),
     np.array([0.01852417, 0.70123291]),
     'PCM_16',
     8000),
    cut=0.5,
).via('discovered failure')
def test_load_audio_wav_truncated_in_its_samples_raises_ctctool_error(recording, cut):
    samples, _, _, rate = recording
    with workdir() as tmp:
        path, data, header = written_wav(tmp, recording)
        frame_bytes = samples.shape[1] * samples.dtype.itemsize
        assume(len(data) - header >= frame_bytes)  # at least one frame to lose
        keep = header + int(cut * (len(data) - header))
        assume(keep < len(data))
        path.write_bytes(data[:keep])
        expect_error(load_audio, path, rate)


@pytest.mark.parametrize("subtype,channels", [("PCM_16", 1), ("FLOAT", 2)])
@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_load_audio_zero_samples_raise_ctctool_error(subtype, channels, fmt):
    if fmt == "flac" and subtype == "FLOAT":
        subtype = "PCM_16"
    with workdir() as tmp:
        path = tmp / f"empty.{fmt}"
        soundfile.write(path, np.zeros((0, channels), dtype=np.float32), 16000, subtype=subtype)
        expect_error(load_audio, path, 16000)
