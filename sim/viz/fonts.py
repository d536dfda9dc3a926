"""A CJK font for matplotlib, so Chinese labels render as characters, not empty boxes.

Matplotlib's bundled DejaVu fonts have no Chinese glyphs. ``setup_cjk_font`` picks an
installed Simplified-Chinese font if the machine has one (Windows, macOS and Linux with
``fonts-noto-cjk`` usually do); otherwise it registers the Noto Sans CJK SC file shipped in
the ``mplfonts`` wheel (a dependency of govsim), so a fresh machine draws readable Chinese
too. It never runs mplfonts' CLI and never writes into matplotlib's installation: the font
is registered in this process only.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

from sim.errors import GovsimError

# Installed Simplified-Chinese sans fonts, best first.
SYSTEM_CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
# Pan-CJK fonts whose Chinese glyph shapes follow another locale's conventions (e.g. the
# first face of Debian's NotoSansCJK-Regular.ttc is the JP one): complete, but only used
# when the mplfonts file is unavailable.
FALLBACK_CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "Noto Sans CJK KR",
)
MPLFONTS_FILE = "NotoSansCJKsc-Regular.otf"

# Characters a usable font must have (labels, county names).
_PROBE_TEXT = "获得感幸福感安全感网格盐城亭湖区"


def has_glyphs(text: str, family: str) -> bool:
    """Whether the font matplotlib resolves for ``family`` has a glyph for every character.

    Spaces are ignored. Returns False when no font of that family is registered (no
    silent fallback to DejaVu Sans).
    """
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return False
    font = font_manager.get_font(path)
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _registered_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _mplfonts_file() -> Path | None:
    """Path of the Noto Sans CJK SC file inside the installed mplfonts package, if any."""
    # find_spec locates the package without importing it (its __init__ pulls in fontmeta).
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "fonts" / MPLFONTS_FILE
        if candidate.is_file():
            return candidate
    return None


def _family_of(path: Path) -> str:
    return font_manager.FontProperties(fname=path).get_name()


@functools.cache
def _find_cjk_family() -> str:
    """Choose and, if needed, register a CJK family (once per process)."""
    installed = _registered_families()
    for family in SYSTEM_CJK_FAMILIES:
        if family in installed and has_glyphs(_PROBE_TEXT, family):
            return family
    path = _mplfonts_file()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        family = _family_of(path)
        if has_glyphs(_PROBE_TEXT, family):
            return family
    for family in FALLBACK_CJK_FAMILIES:
        if family in installed and has_glyphs(_PROBE_TEXT, family):
            return family
    raise GovsimError(
        "No Chinese font found for figures: install the 'mplfonts' package "
        "(pip install mplfonts) or a system CJK font such as Noto Sans CJK SC "
        "(Debian/Ubuntu: apt install fonts-noto-cjk)."
    )


def setup_cjk_font() -> str:
    """Make matplotlib draw Chinese text and return the CJK family chosen.

    The search (installed SC fonts, then the mplfonts file, then other pan-CJK fonts) runs
    once per process; the rcParams are re-applied on every call, so the call is cheap and
    idempotent and also repairs settings reset by ``rcdefaults`` or an ``rc_context``.
    Sets ``font.family`` to sans-serif, puts the CJK family first in ``font.sans-serif``
    (the other families stay behind it as fallbacks) and turns off ``axes.unicode_minus``.

    Raises
    ------
    GovsimError
        When no CJK font is installed and the mplfonts file is missing.
    """
    family = _find_cjk_family()
    rc = matplotlib.rcParams
    rest = [name for name in rc["font.sans-serif"] if name != family]
    rc["font.sans-serif"] = [family, *rest]
    rc["font.family"] = ["sans-serif"]
    rc["axes.unicode_minus"] = False
    return family
