"""Telling a tweet's language at write: by script where the script says it, by common words for the
Latin-script languages, "und" when neither is sure. Pure and deliberately modest: a wrong guess is
worse than "und" for search and trends, so a text must show its language clearly.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

UNDETERMINED = "und"

# Scripts that (nearly) name one language, by the first word of the Unicode character name.
_SCRIPT_LANGUAGES = {
    "HANGUL": "ko", "THAI": "th", "GREEK": "el", "HEBREW": "he", "DEVANAGARI": "hi", "ARMENIAN": "hy",
    "GEORGIAN": "ka", "BENGALI": "bn", "TAMIL": "ta", "TELUGU": "te", "GUJARATI": "gu", "KHMER": "km",
    "LAO": "lo", "MYANMAR": "my", "SINHALA": "si", "ETHIOPIC": "am",
}
_PERSIAN_LETTERS = frozenset("پچژگ")
_UKRAINIAN_LETTERS = frozenset("іїєґІЇЄҐ")

_STOPWORDS = {lang: frozenset(words.split()) for lang, words in {
    "en": "the and is are was to of in that it for you with on this have not be at but what my your",
    "es": "el la los las que de y en es por para con una un no se del lo muy pero como más",
    "fr": "le la les des est et que une un pour dans pas ce qui sur avec je vous il elle du au",
    "de": "der die das und ist nicht ein eine ich du mit auf für von zu den dem sie es auch wir",
    "pt": "o a os as que de e em um uma não para com por é do da mais mas você muito",
    "it": "il lo la gli le che di e è un una per non con sono del della ma anche questo",
    "nl": "de het een en is van niet dat ik je met op te zijn voor maar ook wat",
}.items()}
_MIN_WORDS = 3


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return ""


def _words(text: str) -> list[str]:
    words, current = [], []
    for ch in text.lower():
        if ch.isalpha() or ch == "'":
            current.append(ch)
        elif current:
            words.append("".join(current).strip("'"))
            current = []
    if current:
        words.append("".join(current).strip("'"))
    return [w for w in words if w]


def detect_language(text: str, skip: Iterable[tuple[int, int]] = ()) -> str:
    """The BCP 47 code of the text's language, or "und". `skip` holds spans (start, end) to ignore:
    mentions, hashtags and URLs say nothing of the language around them."""
    chars = list(text)
    for start, end in skip:
        chars[start:end] = [" "] * (end - start)
    plain = "".join(chars)
    letters = [ch for ch in plain if ch.isalpha()]
    if not letters:
        return UNDETERMINED
    scripts = Counter(_script(ch) for ch in letters)
    kana = scripts["HIRAGANA"] + scripts["KATAKANA"]
    if kana and (kana + scripts["CJK"]) * 2 >= len(letters):
        return "ja"  # Japanese mixes kanji and kana
    script, count = scripts.most_common(1)[0]
    if count * 2 < len(letters):
        return UNDETERMINED
    if script == "CJK":
        return "zh"
    if script in _SCRIPT_LANGUAGES:
        return _SCRIPT_LANGUAGES[script]
    if script == "ARABIC":
        return "fa" if _PERSIAN_LETTERS & set(plain) else "ar"
    if script == "CYRILLIC":
        return "uk" if _UKRAINIAN_LETTERS & set(plain) else "ru"
    if script != "LATIN":
        return UNDETERMINED
    words = _words(plain)
    if len(words) < _MIN_WORDS:
        return UNDETERMINED
    scores = Counter({lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()})
    (best, best_score), (_, second_score) = scores.most_common(2)
    return best if best_score >= 2 and best_score > second_score else UNDETERMINED

