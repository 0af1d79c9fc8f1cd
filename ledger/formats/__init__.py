"""Log formats as data: presets (``presets.toml``) and format strings compiled into parsers' specs."""

from ledger.formats.layout import compile_layout, custom_layout
from ledger.formats.presets import FORMAT_CHOICES, PRESETS, SNIFF_ORDER, get_format
from ledger.formats.spec import CANONICAL, LogFormat

__all__ = [
    "CANONICAL",
    "FORMAT_CHOICES",
    "PRESETS",
    "SNIFF_ORDER",
    "LogFormat",
    "compile_layout",
    "custom_layout",
    "get_format",
]
