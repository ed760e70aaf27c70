"""ISO-2022-JP done right: the documented substitutions for characters it cannot carry.

ISO-2022-JP (RFC 1468) carries ASCII and JIS X 0208 only. What Japanese staff type on Windows often
falls outside it: the full-width tilde ～ that the IME gives for 〜, half-width katakana, the NEC
extensions (①, ㈱, ㍻) and IBM kanji (髙, 﨑). An issue in ISO-2022-JP gets each of those replaced by
the character or the spelling Japanese mail has always used for it, and staff are told each
replacement and where (at compose and in the preview). What has no accepted replacement (彅, é,
emoji) is refused at compose, named.

The table, by group (`SUBSTITUTIONS` holds each single character):
- Windows' mapping: ～ (U+FF5E) → 〜, － (U+FF0D) → −, ∥ → ‖, ￠ ￡ ￢ → ¢ £ ¬, — (U+2014) → ―
- half-width katakana, as whole runs (jaconv): ｶﾞｲﾑｼｮｳ → ガイムショウ, ｡｢｣､･ → 。「」、・
- circled numbers: ① … ⑳ → (1) … (20); Roman numerals: Ⅰ … Ⅹ → I … X, ⅰ … ⅹ → i … x
- parenthesized: ㈱ → (株), ㈲ → (有), ㈹ → (代), ㊤ ㊥ ㊦ ㊧ ㊨ → (上) (中) (下) (左) (右)
- squared words: ㍿ → 株式会社, ㍻ ㍼ ㍽ ㍾ ㋿ → 平成 昭和 大正 明治 令和,
  ㌔ ㌘ ㌢ ㍍ ㌧ ㌫ … → キロ グラム センチ メートル トン パーセント …
- units and signs: ㎜ ㎝ ㎞ ㎎ ㎏ ㏄ ㎡ → mm cm km mg kg cc m2, № → No., ℡ → TEL,
  ∑ ∟ ⊿ ∮ → Σ ∠ △ ∫
- IBM and variant kanji: 髙 﨑 德 𠮷 濵 栁 瀨 昻 → 高 崎 徳 吉 濱 柳 瀬 昂, and each CJK
  compatibility ideograph (U+F900–) → its unified form where the charset has it
- Western marks: – (en dash) → -, • and · → ・, a no-break space → a space, © ® ™ → (c) (R) (TM)

Accented letters (é) and kanji with no JIS X 0208 form stay: spelling them otherwise is for the
writer to decide. Personal parts (a reader's name with 髙) are never rewritten: such a reader's
message goes as UTF-8 instead (see `outreach.message`), so that nobody's name is changed behind
their back.
"""

from __future__ import annotations

__all__ = ["SUBSTITUTIONS", "Substituted", "Substitution", "replacement", "substitute"]

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import jaconv

_WINDOWS = {
    "\uff5e": "\u301c",  # ～ FULLWIDTH TILDE -> 〜 WAVE DASH
    "\uff0d": "\u2212",  # － FULLWIDTH HYPHEN-MINUS -> − MINUS SIGN
    "\u2225": "\u2016",  # ∥ PARALLEL TO -> ‖ DOUBLE VERTICAL LINE
    "\uffe0": "\u00a2",  # ￠ -> ¢
    "\uffe1": "\u00a3",  # ￡ -> £
    "\uffe2": "\u00ac",  # ￢ -> ¬
    "\u2014": "\u2015",  # — EM DASH -> ― HORIZONTAL BAR
    "\uffe4": "|",  # ￤ FULLWIDTH BROKEN BAR
    "\u00a6": "|",  # ¦ BROKEN BAR
}
_CIRCLED = {chr(0x2460 + index): f"({index + 1})" for index in range(20)}  # ① … ⑳
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
_ROMAN_NUMERALS = {chr(0x2160 + index): numeral for index, numeral in enumerate(_ROMAN)} | {
    chr(0x2170 + index): numeral.lower() for index, numeral in enumerate(_ROMAN)
}
_PARENTHESIZED = {
    "\u3231": "(株)",
    "\u3232": "(有)",
    "\u3239": "(代)",
    "\u32a4": "(上)",
    "\u32a5": "(中)",
    "\u32a6": "(下)",
    "\u32a7": "(左)",
    "\u32a8": "(右)",
}
_SQUARED = {
    "\u337f": "株式会社",
    "\u337b": "平成",
    "\u337c": "昭和",
    "\u337d": "大正",
    "\u337e": "明治",
    "\u32ff": "令和",
    "\u3349": "ミリ",
    "\u3314": "キロ",
    "\u3322": "センチ",
    "\u334d": "メートル",
    "\u3318": "グラム",
    "\u3327": "トン",
    "\u3303": "アール",
    "\u3336": "ヘクタール",
    "\u3351": "リットル",
    "\u3357": "ワット",
    "\u330d": "カロリー",
    "\u3326": "ドル",
    "\u3323": "セント",
    "\u332b": "パーセント",
    "\u334a": "ミリバール",
    "\u333b": "ページ",
}
_UNITS = {
    "\u339c": "mm",
    "\u339d": "cm",
    "\u339e": "km",
    "\u338e": "mg",
    "\u338f": "kg",
    "\u33c4": "cc",
    "\u33a1": "m2",
    "\u2116": "No.",
    "\u2121": "TEL",
    "\u2211": "\u03a3",  # ∑ -> Σ
    "\u221f": "\u2220",  # ∟ -> ∠
    "\u22bf": "\u25b3",  # ⊿ -> △
    "\u222e": "\u222b",  # ∮ -> ∫
}
_KANJI = {
    "\u9ad9": "高",  # 髙 (はしごだか)
    "\ufa11": "崎",  # 﨑 (たつさき)
    "\u5fb7": "徳",  # 德
    "\U00020bb7": "吉",  # 𠮷 (つちよし)
    "\u6ff5": "濱",  # 濵
    "\u6801": "柳",  # 栁
    "\u7028": "瀬",  # 瀨
    "\u663b": "昂",  # 昻
}
_WESTERN = {
    "\u2013": "-",  # – EN DASH
    "\u2022": "・",  # • BULLET
    "\u00b7": "・",  # · MIDDLE DOT
    "\u00a0": " ",  # NO-BREAK SPACE
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    "\u2122": "(TM)",
}
_HALF_WIDTH_MARKS = {"\uff9e": "゛", "\uff9f": "゜"}  # a lone ﾞ or ﾟ that follows no kana

# Every single-character substitution, for the documentation and the tests; half-width katakana and the CJK
# compatibility ideographs are found by rule (see `replacement`).
SUBSTITUTIONS: dict[str, str] = {
    **_WINDOWS,
    **_CIRCLED,
    **_ROMAN_NUMERALS,
    **_PARENTHESIZED,
    **_SQUARED,
    **_UNITS,
    **_KANJI,
    **_WESTERN,
    **_HALF_WIDTH_MARKS,
}

# A run of half-width katakana (U+FF61–U+FF9F), converted as a whole: ｶﾞ is one ガ, not カ and ゛.
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]+")


@dataclass(frozen=True)
class Substitution:
    """One replacement made in a text: what was there, what is there now, how many times."""

    original: str
    replacement: str
    count: int

    def __str__(self) -> str:
        times = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.original} → {self.replacement}{times}"


@dataclass(frozen=True)
class Substituted:
    """The replacements made in one text, and where that text is."""

    where: str
    substitutions: tuple[Substitution, ...]

    def __str__(self) -> str:
        return f"{', '.join(str(each) for each in self.substitutions)} in {self.where}"


def _fits(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def replacement(char: str, charset: str = "iso-2022-jp") -> str | None:
    """What replaces one character that the charset cannot carry, or None when nothing may."""
    if (found := SUBSTITUTIONS.get(char)) is not None:
        return found
    if "\uff61" <= char <= "\uff9f":
        return str(jaconv.h2z(char, kana=True, ascii=False, digit=False))
    # A CJK compatibility ideograph (U+F900–U+FAFF, U+2F800–) is by definition the same character as its
    # canonical form; those that have one in the charset take it.
    if unicodedata.name(char, "").startswith("CJK COMPATIBILITY IDEOGRAPH"):
        unified = unicodedata.normalize("NFC", char)
        if unified != char and _fits(unified, charset):
            return unified
    return None


def _kana_run(match: re.Match[str], counts: Counter[tuple[str, str]]) -> str:
    run = match.group()
    converted = str(jaconv.h2z(run, kana=True, ascii=False, digit=False))
    for mark, full in _HALF_WIDTH_MARKS.items():
        converted = converted.replace(mark, full)
    counts[(run, converted)] += 1
    return converted


def substitute(text: str, charset: str) -> tuple[str, tuple[Substitution, ...]]:
    """The text with every substitutable character the charset cannot carry replaced, and the replacements.

    UTF-8 and text that already fits come back unchanged (encoding the whole text once is the fast path).
    Characters with no replacement stay: `outreach.render.uncarried` names them.
    """
    if charset == "utf-8" or _fits(text, charset):
        return text, ()
    counts: Counter[tuple[str, str]] = Counter()
    if _HALF_WIDTH_KANA.search(text):
        text = _HALF_WIDTH_KANA.sub(lambda match: _kana_run(match, counts), text)
    table: dict[int, str] = {}
    for char in sorted({char for char in text if not _fits(char, charset)}):
        found = replacement(char, charset)
        if found is not None:
            table[ord(char)] = found
            counts[(char, found)] += text.count(char)
    if table:
        text = text.translate(table)
    return text, tuple(Substitution(old, new, count) for (old, new), count in sorted(counts.items()))
