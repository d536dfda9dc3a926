"""A Chinese web font served by the page's own server, so the page reads as Chinese on a
machine without a CJK system font (a fresh classroom PC, a minimal Linux).

The font is Noto Sans CJK SC (SIL Open Font License 1.1, © Google/Adobe), taken from the
``mplfonts`` wheel that govsim already depends on for its figures
(:mod:`sim.viz.fonts`), cut down with fontTools (a matplotlib dependency) to the
characters the page can show: every CJK character and punctuation in the page's sources,
metric names, scenario files and county names, plus the 3,755 common characters of
GB 2312 level 1 (for scenario titles a teacher writes). The subset (WOFF, ≈1–2 MB) is
built once into a cache directory and served by Solara as an asset
(``/static/assets/govsim-cjk.woff``; ``govsim app`` adds the directory with
``SOLARA_ASSETS_EXTRA_LOCATIONS``). The page's CSS names it first in its font stack
(:data:`WEBFONT_FAMILY`), so it is used even where a system font exists (one look for the
whole class); it has the OFL licence beside it in the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

WEBFONT_FAMILY = "Govsim Noto Sans SC"
WEBFONT_FILE = "govsim-cjk.woff"
WEBFONT_URL = f"./static/assets/{WEBFONT_FILE}"
SOURCE_FILE = "NotoSansCJKsc-Regular.otf"
_ROOT = Path(__file__).resolve().parents[2]
OFL_NOTICE = """Noto Sans CJK SC — Copyright 2014-2021 Adobe (http://www.adobe.com/), with
Reserved Font Name 'Source'. Licensed under the SIL Open Font License, Version 1.1
(https://openfontlicense.org). This file is a subset made by govsim (sim/app/webfont.py)
from the copy shipped in the mplfonts package; the subset is named as a modified version
and is not sold by itself.
"""


def source_font() -> Path | None:
    """The mplfonts copy of Noto Sans CJK SC, or None if mplfonts is not installed."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / SOURCE_FILE
    return path if path.is_file() else None


def _gb2312_level1() -> str:
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(out)


def _is_wide(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, punctuation, kana, unified ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2000 <= o <= 0x206F  # general punctuation (— … ‘ ’ “ ”)
        or o in (0x00B7, 0x00D7, 0x2192, 0x2264, 0x2265, 0x2260, 0x2212)
    )


def page_characters() -> str:
    """Every character the page may need from the web font, sorted."""
    sources = [*(_ROOT / "sim" / "app").glob("*.py"), _ROOT / "sim" / "metrics_schema.py"]
    sources += [*(_ROOT / "scenarios").glob("*.toml"), *(_ROOT / "sim" / "data").rglob("*.*")]
    text = [_gb2312_level1(), "0123456789%:：,.，。、()（）-–—→·"]
    for path in sources:
        if path.suffix in (".py", ".toml", ".json", ".csv", ".txt", ".md"):
            try:
                text.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
    chars = {ch for ch in "".join(text) if _is_wide(ch)}
    chars.update(chr(c) for c in range(0x20, 0x7F))
    return "".join(sorted(chars))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "govsim" / "webfont"


def ensure_webfont(directory: Path | None = None) -> Path | None:
    """Build the subset font (once; rebuilt when the characters or the source change) and
    return the directory that holds it, or None when no source font is available."""
    src = source_font()
    if src is None:
        return None
    chars = page_characters()
    key = hashlib.sha256((chars + str(src.stat().st_size)).encode()).hexdigest()[:16]
    directory = cache_dir() if directory is None else Path(directory)
    out = directory / WEBFONT_FILE
    stamp = directory / "govsim-cjk.key"
    if out.is_file() and stamp.is_file() and stamp.read_text() == key:
        return directory
    from fontTools import subset

    directory.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(src), options)
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    for rec in font["name"].names:  # a modified version gets its own name (OFL §3)
        if rec.nameID in (1, 4, 16):
            rec.string = WEBFONT_FAMILY
    tmp = out.with_suffix(".tmp")
    subset.save_font(font, str(tmp), options)
    tmp.replace(out)
    (directory / "OFL-NotoSansCJK.txt").write_text(OFL_NOTICE, encoding="utf-8")
    stamp.write_text(key)
    return directory


def font_face_css() -> str:
    """The ``@font-face`` rule for the served subset."""
    return (
        f'@font-face {{ font-family: "{WEBFONT_FAMILY}"; '
        f'src: url("{WEBFONT_URL}") format("woff"); font-display: swap; }}'
    )
