"""English number words, for transcript normalisation: 42 -> "forty two", 1999 -> "nineteen ninety nine"."""

from __future__ import annotations

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                 "nine": "ninth", "twelve": "twelfth"}


def cardinal(number: int) -> str:
    """``number`` (0 <= n < 10**15) in words, without "and": 115 -> "one hundred fifteen"."""
    if number < 0:
        return "minus " + cardinal(-number)
    if number < 20:
        return ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return TENS[tens] + ("" if ones == 0 else " " + ONES[ones])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + cardinal(rest))
    for scale, name in SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return cardinal(high) + " " + name + ("" if rest == 0 else " " + cardinal(rest))
    raise AssertionError("unreachable")


def year(number: int) -> str:
    """A four-digit year as spoken: 1999 -> "nineteen ninety nine", 2005 -> "two thousand five"."""
    high, low = divmod(number, 100)
    if 2000 <= number < 2010 or low == 0 and number % 1000 == 0:
        return cardinal(number)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + (" oh " + ONES[low] if low < 10 else " " + cardinal(low))


def ordinal(number: int) -> str:
    """``number`` as an ordinal: 21 -> "twenty first", 40 -> "fortieth"."""
    words = cardinal(number).split()
    last = words[-1]
    if last in ORDINAL_WORDS:
        words[-1] = ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def spell_number(text: str) -> str | None:
    """Words for a numeric token (``42``, ``1,000``, ``3.14``, ``21st``, ``1999``), or None if it is not one."""
    grouped = _grouped(text)
    token = text.replace(",", "") if grouped else text
    for suffix in ("st", "nd", "rd", "th"):
        if token.endswith(suffix) and token[: -len(suffix)].isdigit():
            return ordinal(int(token[: -len(suffix)]))
    if token.isdigit():
        value = int(token)
        if len(token) == 4 and 1100 <= value < 2100 and not grouped:
            return year(value)
        if len(token) > 15:
            return " ".join(ONES[int(d)] for d in token)
        return cardinal(value)
    whole, dot, fraction = token.partition(".")
    if dot and whole.isdigit() and fraction.isdigit() and len(whole) <= 15:
        return cardinal(int(whole)) + " point " + " ".join(ONES[int(d)] for d in fraction)
    return None


def _grouped(text: str) -> bool:
    """True for digits grouped by commas in threes, maybe with a decimal part: 1,000 or 12,345,678.5."""
    groups = text.partition(".")[0].split(",")
    return (len(groups) > 1 and groups[0].isdigit() and 1 <= len(groups[0]) <= 3
            and all(len(g) == 3 and g.isdigit() for g in groups[1:]))
