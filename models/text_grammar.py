"""The phrase grammar the description checker reads texts with, over the lexicon's words (text_lexicon.py).

The lexicon lists phrases; LLMs and people write phrases the lexicon cannot list one by one: an attribute
noun with its modifier on either side ("a high, fearful voice", "his voice is rather high", "音调偏高",
"以较快的语速"), hedged by degree words ("a bit", "slightly", 略微, 有点, 颇为), compared ("faster than usual",
比平常快), coordinated ("又高又响的声音", "pitch and volume both moderate"), negated ("not loud at all",
一点也不快) or given as a number ("a man of about fifty", 三十岁上下). This module builds those phrases per
language and attribute, in the lexicon's shape (regex, values), plus:
- NEGATION: what may stand before a phrase to deny it; a denied phrase fits every other value of its
  attribute ("not loud" fits low and normal volume), so a value stated then denied is a distortion;
- COORDINATION: rewrites that give each of several nouns (or adjectives) its own phrase before reading;
- age numbers, whose values depend on the number (a callable instead of a value set).
A grammar phrase may name its adjective `adj` (and its negation `neg`): then only those are blanked, and
the noun stays for the next phrase ("her pitch is high, or rather, quite low" reads both values).
"""
from __future__ import annotations

import re

# -- English -----------------------------------------------------------------------------------------------
_DEGREE_EN = (r"(?:(?:very|quite|rather|fairly|somewhat|slightly|a bit|a little(?: bit)?|a touch|a tad|noticeably"
              r"|relatively|really|extremely|pretty|moderately|markedly|distinctly|mildly|unusually|particularly"
              r"|especially|notably|decidedly|so|too|kind of|sort of|comparatively|even|still|much|both|all"
              r"|equally|noticeably|clearly|obviously)[ ,]+)*")
_NEG_EN = r"(?:\w*n't|not|never|hardly|barely|scarcely|anything but|far from)"
# nouns a modifier attaches to; none of them may sit in the gap between another noun and its modifier
_NOUNS_EN = {
    "speed": r"pace|speed|tempo|rate|speaking rate|delivery|cadence",
    "volume": r"volume|loudness|energy|intensity|projection",
    "pitch": r"pitch|register|voice|tone|timbre",
}
_ANY_NOUN_EN = "|".join(_NOUNS_EN.values())
# what may stand between a noun and its modifier: copulas, and the words of a correction ("or rather")
_GAP_EN = (r"(?:[ ,]+(?:is|was|are|were|'s|that|which|sits?|sitting|stays?|remains?|seems?|sounds?|feels?|runs?|kept|held"
           r"|pitched|set|falls?|being|be|or|rather|actually|well|i mean|a|an|and|on the|should|must|will|would|can"
           r"|could|may|might|needs to|has to|ought to)){0,4}")
# what may stand between coordinated modifiers and their noun: anything but the words of another phrase
_FUNCTION_EN = (r"his|her|their|its|the|a|an|with|at|in|of|to|for|is|was|by|on|from|that|which|who|whose|as|and then"
                r"|while|whereas|but|yet|though|although|when|where")
_NORMAL_EN = (r"normal|moderate|medium|average|ordinary|regular|typical|standard|natural|middling|unremarkable"
              r"|balanced|comfortable|conversational|steady|mid|mid-range|middle|middle-of-the-road")
# modifiers by attribute and value: only these need a noun ("fast", "loud", "happy" are read anywhere)
_ADJ_EN = {
    "speed": {"normal": _NORMAL_EN, "fast": r"fast|faster|quick|quicker|rapid|brisk|swift|speedy|hurried|rushed|lively",
              "slow": r"slow|slower|leisurely|unhurried|relaxed|languid|sluggish|plodding|drawn-out|deliberate|dragging"
                      r"|dawdling"},
    "volume": {"normal": _NORMAL_EN, "high": r"high|higher|loud|louder|raised|elevated|strong",
               "low": r"low|lower|soft|softer|quiet|quieter|reduced|subdued|weak"},
    # a calm, even or natural tone is an emotion's
    "pitch": {"normal": r"normal|moderate|medium|average|ordinary|regular|typical|standard|middling|mid|mid-range|middle",
              "high": r"high|higher|highish|raised|elevated|high-pitched|higher-pitched",
              "low": r"low|lower|lowish|deep|deeper|low-pitched|lower-pitched"},
}
# read anywhere: comparatives and forms the lexicon lacks
_FREE_EN = {
    "speed": [(r"faster|quicker|speedier|more (?:quickly|rapidly)", "fast"), (r"slower|more slowly", "slow"),
              (r"(?:normal|moderate|medium|average|even|steady)[- ]paced", "normal")],
    "volume": [(r"louder|more loudly|shout\w*|yell\w*|bellow\w*|holler\w*|rais(?:ed|es|ing|e) (?:(?:his|her|their|the|a)"
                r" )?voice|voice (?:is |was )?raised", "high"),
               (r"quieter|softer|more (?:quietly|softly)|soft-spoken", "low")],
    "pitch": [(r"high-voiced|above-average pitch", "high"), (r"low-voiced|deep-voiced|below-average pitch", "low"),
              (r"(?:middle|center|centre) of (?:his|her|their|the|a) (?:\w+ )?range", "normal")],
    "emotion": [(r"without (?:any |much |a trace of |a hint of )?(?:\w+ )?(?:emotion|feeling)"
                 r"|(?:with )?(?:no|little) (?:particular |real |obvious |strong |special )?(?:emotion|feeling)", "neutral")],
}


def _english(attribute: str) -> list[tuple[str, str]]:
    nouns = _NOUNS_EN[attribute]
    # both sides denied is the middle: "neither fast nor slow", "neither too high nor too low"
    # ("neither high nor low" alone is pitch's: words another attribute shares need the noun)
    sides = [a for v, by_value in _ADJ_EN[attribute].items() if v != "normal" for a in by_value.split("|")]
    own = "|".join(a for a in sides if attribute == "pitch" or not any(
        a in by_value.split("|") for other, adjectives in _ADJ_EN.items() if other != attribute
        for by_value in adjectives.values()))
    neither = (rf"(?:neither|not) (?:too )?{_DEGREE_EN}(?:{{0}}),? (?:nor|(?:and|or|but|yet) (?:not|neither))"
               rf" (?:too )?{_DEGREE_EN}(?:{{0}})\b")
    phrases = [(rf"\b(?:{nouns})\b{_GAP_EN}[ ,]+" + neither.format("|".join(sides)), "normal"),
               (r"\b" + neither.format(own), "normal")]
    for value, adjectives in _ADJ_EN[attribute].items():
        # noun first: "his voice is rather high", "pitch a bit lower than average", "voice isn't high"
        phrases.append((rf"\b(?:{nouns})\b{_GAP_EN}[ ,:]+(?:(?P<neg>{_NEG_EN})[ ,]+(?:at all[ ,]+)?)?{_DEGREE_EN}"
                        rf"(?P<adj>{adjectives})\b(?!-| +(?:in +)?(?:{_ANY_NOUN_EN})\b)", value))
        # the modifier then its noun: "high in pitch", "moderate in volume"
        phrases.append((rf"\b{_DEGREE_EN}(?P<adj>{adjectives}) in (?:{nouns})\b", value))
        # modifier first, alone or among coordinated ones: "a high, loud, quick and happy voice" (a comma right
        # before the noun ends a list: "moderate, volume ..." is not "moderate volume")
        phrases.append((rf"(?<!-)\b(?:{adjectives})(?:-than-[a-z]+)?\b(?!-)(?=(?:[ ,]+(?:and |or )?(?!(?:{_ANY_NOUN_EN}|{_FUNCTION_EN}|and|or)\b)"
                        rf"[\w'-]+){{0,4}}? +(?:{nouns})\b)", value))
    return phrases


# -- Chinese -----------------------------------------------------------------------------------------------
_DEGREE_ZH = (r"(?:非常|十分|特别|格外|极其|极为|极|相当|颇为|颇|很|较为|较|比较|偏|略微|略显|略|稍微|稍稍|稍显|稍|有点儿|有点|有些"
              r"|有一点|微微|更加|更|还|挺|蛮|过于|太|显得|明显|又|既|都|也|要|保持)*")
_NEG_ZH = r"(?:一点儿?[也都]不|丝毫不|毫不|并不|并非|绝不|从不|既不|不太|不怎么|不算|不是很|不是|没有?那么|没有|没|不)"
_NOUNS_ZH = {
    "speed": r"语速|说话速度|速度|节奏|语流|说话|讲话|说得|讲得|念得|读得",
    "volume": r"音量|声量|嗓门|声音|说话|说得|讲得",
    "pitch": r"音调|音高|声调|调门|嗓音|声线|声音|调子|嗓子",
}
_NORMAL_ZH = r"适中|正常|中等|平稳|均匀|一般|自然|平常|适度|平和|普通|刚刚好|刚好|合适"
_MIDDLE_ZH = r"适中|正常|中等|均匀|适度"
_VERBS_ZH = ("说话", "讲话", "说得", "讲得", "念得", "读得")
# what may stand between a noun and its modifier: 语速也比常人快, 音量均保持中等, 音调属中等, 音量处在中等水平
_ALSO_ZH = r"(?:都|均|也|则|却)?"
_STANDS_ZH = r"(?:处在|处于|保持在|维持在|属于|属|为)?"
_ADJ_ZH = {
    "speed": {"normal": _NORMAL_ZH, "fast": r"飞快|急促|迅速|轻快|快|急", "slow": r"缓慢|徐缓|迟缓|舒缓|慢|缓"},
    "volume": {"normal": _NORMAL_ZH, "high": r"响亮|洪亮|大声|响|大", "low": r"微弱|轻柔|小声|轻|小|弱"},
    "pitch": {"normal": _NORMAL_ZH, "high": r"高亢|尖细|尖锐|清亮|高高|尖尖|高|尖",
              "low": r"低沉|浑厚|深沉|厚重|低|沉"},
}
# noun-only forms: 音量高/低 is volume, 声音高/低 is pitch (read after volume)
_ADJ_ZH_NOUN = {("volume", "high"): ("音量|声量|嗓门", "高"), ("volume", "low"): ("音量|声量", "低")}
# (a two-character word before a degree word is another quality of the same noun: 声音清脆偏高)
_LINK_ZH = (r"(?:的)?(?:方面|上|听起来|显得|保持得?|放得|压得|变得|[：:]|比[^，。；、“”「」]{1,10}?"
            r"|[\u4e00-\u9fff]{2}(?=偏|较|略|稍|很|比较|有点|有些))?")
_FREE_ZH = {
    "speed": [(r"慢语|慢声|慢悠悠|慢慢", "slow")],
    "volume": [(r"(?:提高|抬高|放大|扯着|扯开)了?(?:嗓门|音量|声音|声量|嗓子)", "high"),
               (r"(?:压低|放低|降低|放轻)了?(?:嗓门|音量|声音|声量|嗓子|嗓音)", "low")],
    "emotion": [(r"不带(?:什么|任何|一丝)?(?:情绪|感情)|没有(?:什么|任何)?(?:明显的?)?(?:情绪|感情)", "neutral")],
    "age": [(r"中学(?:男|女)?生|初中(?:男|女)?生|高中(?:男|女)?生|[读上](?:高中|初中)", "teenager")],
}


def _chinese(attribute: str) -> list[tuple[str, str]]:
    nouns = _NOUNS_ZH[attribute]
    phrases = []
    for value, adjectives in _ADJ_ZH[attribute].items():
        own_nouns, extra = _ADJ_ZH_NOUN.get((attribute, value), (None, None))
        pairs = [(nouns, adjectives), (own_nouns, extra)]
        if value == "normal":
            # a verb read steadily or naturally (读得平稳, 说得自然) says nothing of its pace or loudness; only
            # the middle words proper do (说得不快不慢 is read below, 说话速度适中 by its noun)
            verbs = [n for n in nouns.split("|") if n in _VERBS_ZH]
            pairs = [("|".join(n for n in nouns.split("|") if n not in _VERBS_ZH), adjectives),
                     ("|".join(verbs) or None, _MIDDLE_ZH)]
        for noun_set, adj in pairs:
            if noun_set is None:
                continue
            # noun first: 语速比较快, 声音一点也不响, 音调比一般女性低一些, 音量：大
            phrases.append((rf"(?:{noun_set}){_ALSO_ZH}{_LINK_ZH}{_ALSO_ZH}{_STANDS_ZH}(?P<neg>{_NEG_ZH})?{_DEGREE_ZH}"
                            rf"(?P<adj>{adj})",
                            value))
            # modifier first: 以较快的语速, 用高高的嗓音, 很小的声音; not 适中的声音, which says nothing of
            # which attribute is moderate
            if value == "normal":
                noun_set = "|".join(n for n in noun_set.split("|") if n not in ("声音", "说话", "说得", "讲得"))
            if noun_set:
                phrases.append((rf"{_DEGREE_ZH}(?:{_bound(adj)})(?:的|地)?(?=(?:一种|一副)?(?:{noun_set}))", value))
    # both sides denied is the middle: 不快不慢, 既不高也不低, 不紧不慢地说 (read before either side alone)
    sides = "|".join(a for by_value in _ADJ_ZH[attribute].values() for a in by_value.split("|") if len(a) == 1)
    sides += _SIDES_ZH.get(attribute, "")
    # like other people's is the middle: 语速和常人差不多, 音量跟平时一样
    alike = (rf"(?:{nouns}){_ALSO_ZH}(?:和|跟|与|同)(?:{_USUAL_ZH})(?:的)?(?:差不多|一样|相当|相仿|相近|无异)", "normal")
    # a comparison before its noun: 比平时慢一些的语速, 比常人大得多的音量
    compared = [(rf"比(?:{_USUAL_ZH})[^，。；、]{{0,2}}?{_DEGREE_ZH}(?:{adjectives})(?:一些|一点儿?|些|得多|很多|不少)?的?"
                 rf"(?=(?:一种|一副)?(?:{nouns}))", value)
                for value, adjectives in _ADJ_ZH[attribute].items() if value != "normal"]
    # 音量高/低 is volume's (_ADJ_ZH_NOUN), and so is 音量不高不低; without its noun, 不高不低 is pitch's
    own_sides = [(rf"(?:音量|声量){_ALSO_ZH}{_LINK_ZH}(?:既)?不(?:太|很|算)?[高低](?:也|又)?不(?:太|很|算)?[高低]", "normal")
                 ] if attribute == "volume" else []
    # a field's one-character middle: 音高：中；语速：中
    field = (rf"(?:{nouns})[：:]\s*中(?=[；;，,。、\s]|$)", "normal")
    return [(rf"(?:{nouns})?{_ALSO_ZH}{_LINK_ZH}(?:既)?不(?:太|很|算)?(?:{sides})(?:也|又)?不(?:太|很|算)?(?:{sides})", "normal"),
            *own_sides, field, alike, *compared] + phrases


# a one-character adjective before its noun must start a word: 快 of 欢快地说话 is no speed, of 很快的语速 is
_STARTS_ZH = r"[^\u4e00-\u9fff]|[不没以用着得了是在并且而又既也都很较偏略稍太更挺蛮颇极常分别外其为当微些点儿加还于显要持一种副]"
_SIDES_ZH = {"speed": "|紧|疾|徐|急|缓"}
_USUAL_ZH = r"常人|一般人|普通人|正常人|平时|平常|往常|别人|大家|正常"


def _bound(adjectives: str) -> str:
    return "|".join(a if len(a) > 1 else rf"(?:(?<={_STARTS_ZH}){a}|^{a})" for a in adjectives.split("|"))


def _phrases(language: str, attribute: str) -> list[tuple[str, str]]:
    free = (_FREE_EN if language == "en" else _FREE_ZH).get(attribute, [])
    if language == "en":
        free = [(rf"\b(?:{pattern})\b", value) for pattern, value in free]
    if attribute not in _NOUNS_EN:
        return free
    return (_english(attribute) if language == "en" else _chinese(attribute)) + free


GRAMMAR: dict[str, dict[str, list[tuple[str, set[str]]]]] = {
    language: {attribute: [(pattern, set(value.split())) for pattern, value in _phrases(language, attribute)]
               for attribute in ("speed", "volume", "pitch", "emotion", "age")}
    for language in ("en", "zh")}

# What may stand right before a phrase to deny it ("doesn't sound sad at all", "毫不生气"); not gender,
# whose pronouns follow negations in ordinary sentences ("not her usual pace").
NEGATION = {
    "en": (rf"(?:\b(?:not|never|hardly|barely|scarcely|anything but|far from|without)[ ,]+|n't[ ,]+|\bno +)"
           r"(?:(?:at all|in the least|a|an|the|be|being|sound|sounds|sounding|seem|seems|seeming|too|overly"
           r"|particularly|especially|remotely|that|so|any|much|very|even|a trace of|a hint of|any sign of|in"
           r"|a sign of|the least bit|in any way|speak|speaking|talk|talking)[ ,]+)*$"),
    "zh": rf"(?<![忍禁]){_NEG_ZH}{_DEGREE_ZH}(?:的|地)?$",
}
NEGATED_ATTRIBUTES = ("speed", "volume", "pitch", "emotion", "age", "noise", "reverberation", "monotony")

# Coordination: each noun of "pitch and volume are both moderate" / 音高和音量都适中 gets the modifier, each
# adjective of 又高又轻的声音 / 高而尖的嗓音 / 说话又快又响 gets the noun.
_SHARED_NOUNS_EN = r"pitch|volume|pace|speed|tempo|loudness"
# the words that take back what was just said: "high—well, no, actually rather low"
_CORRECTION_EN = r"(?:(?:well|no|or rather|rather|i mean|actually|make that|make it|sorry|wait|correction)[ ,—]+)+"
_ALL_ADJ_EN = "|".join(sorted({a for by_value in _ADJ_EN.values() for v in by_value.values() for a in v.split("|")},
                              key=len, reverse=True))
_ALL_ADJ_ZH = "|".join(sorted({a for by_value in _ADJ_ZH.values() for v in by_value.values() for a in v.split("|")},
                              key=len, reverse=True))
_ALL_NOUN_ZH = "|".join(sorted({n for v in _NOUNS_ZH.values() for n in v.split("|")}, key=len, reverse=True))
_SHARED_NOUN_ZH = r"音调|音高|音量|语速|声调"
COORDINATION = {
    "en": [(rf"\b((?:{_SHARED_NOUNS_EN})(?:(?:, and |, | and )(?:(?:his|her|their|the) )?(?:{_SHARED_NOUNS_EN}))+)"
            rf"((?: (?:are|were|both|all|remain|stay|seem|sound|kept|held|equally))* {_DEGREE_EN}(?:{_NORMAL_EN}"
            r"|high|low))\b", lambda m: ", ".join(f"{noun} {m.group(2).strip()}"
                                                  for noun in re.split(r"(?:, and |, | and )(?:(?:his|her|their|the) )?",
                                                                       m.group(1)))),
           (rf"\b({_DEGREE_EN}(?:{_NORMAL_EN}|high|low)) in ((?:{_SHARED_NOUNS_EN})(?:(?:, and |, | and )"
            rf"(?:{_SHARED_NOUNS_EN}))+)\b", lambda m: ", ".join(f"{m.group(1)} in {noun}" for noun in re.split(
                r", and |, | and ", m.group(2)))),
           # a correction names its noun once: "pitch sits high—well, no, actually rather low" says both values
           (rf"\b({_SHARED_NOUNS_EN}|voice|tone)\b([^.;—]{{0,30}}?)\b((?:{_ALL_ADJ_EN})\b)\s*(?:—|–|--|,|\.\.\.)\s*"
            rf"({_CORRECTION_EN})"
            rf"({_DEGREE_EN}(?:{_ALL_ADJ_EN}))\b", r"\1\2\3, \4\1 \5"),
           # ... also after the modifier and its noun, in a dash or in brackets: "a low pitch (actually, no, …)"
           (rf"\b((?:{_ALL_ADJ_EN})) ({_SHARED_NOUNS_EN})\b\s*(?:—|–|--|,|\(|\.\.\.)\s*"
            rf"({_CORRECTION_EN})"
            rf"({_DEGREE_EN}(?:{_ALL_ADJ_EN}))\b", r"\1 \2, \3\2 \4"),
           # a level the noun is kept at is the noun's: "pitch kept at a normal level" is not a normal volume
           (rf"\b({_SHARED_NOUNS_EN}|tone)\b((?: (?:is|was|kept|held|set|stays?|remains?|sits?|pitched)){{0,2}})"
            r" (?:at|on|to) (?:an? |the )?((?:\w+ )?\w+) level\b", r"\1\2 \3")],
    "zh": [(rf"({_DEGREE_ZH}(?:{_ALL_ADJ_ZH})的)((?:{_SHARED_NOUN_ZH})(?:[、和与及](?:{_SHARED_NOUN_ZH}))+)",
            lambda m: "、".join(m.group(1) + noun for noun in re.split(r"[、和与及]", m.group(2)))),
           (rf"((?:{_SHARED_NOUN_ZH})(?:[、和与及](?:{_SHARED_NOUN_ZH}))+)({_ALSO_ZH}{_STANDS_ZH}(?:{_DEGREE_ZH}"
            rf"(?:{_ALL_ADJ_ZH})|既?不(?:{_ALL_ADJ_ZH})(?:也|又)?不(?:{_ALL_ADJ_ZH})))",
            lambda m: "，".join(noun + m.group(2) for noun in re.split(r"[、和与及]", m.group(1)))),
           # (the second may be a quality of no attribute: 又高又亮的嗓音 is still high)
           (rf"(?:又|既)?({_ALL_ADJ_ZH})的?(?:又|而|且|、)({_DEGREE_ZH})({_ALL_ADJ_ZH}|[\u4e00-\u9fff])(的|地)?(一种|一副)?"
            rf"({_ALL_NOUN_ZH})", lambda m: f"{m.group(1)}的{m.group(6)}，{m.group(2)}{m.group(3)}的{m.group(6)}"),
           (rf"({_ALL_NOUN_ZH})({_DEGREE_ZH})({_ALL_ADJ_ZH})(?:又|而|且|、)({_DEGREE_ZH})({_ALL_ADJ_ZH})",
            lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}，{m.group(1)}{m.group(4)}{m.group(5)}"),
           # a correction names its noun once: 语速中等，不对，要非常快 / 语速偏快——其实应该说偏慢 / 语速适中偏慢——准确地说是
           # 相当慢 / 音量很大——不，还是放小一点 (both values said)
           (rf"({_ALL_NOUN_ZH})({_DEGREE_ZH})((?:{_ALL_ADJ_ZH})(?:{_DEGREE_ZH}(?:{_ALL_ADJ_ZH}))?|既?不(?:{_ALL_ADJ_ZH})(?:也|又)?"
            rf"不(?:{_ALL_ADJ_ZH}))[，,—\-\s]*(?:(?:不对|哦不|不(?=[，,—])|其实|应该|实际上|还是|确切地说"
            rf"|准确地说|更正)[^，。；—]{{0,4}}?[，,—\-\s]*){{1,3}}(?:是|要)?({_DEGREE_ZH})({_ALL_ADJ_ZH})",
            lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}，{m.group(1)}{m.group(4)}{m.group(5)}")],
}

# -- ages as numbers -----------------------------------------------------------------------------------------
_UNITS_EN = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen").split()
_TENS_EN = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_NUMBER_EN = (rf"(?:{'|'.join(_TENS_EN)})(?:[- ](?:{'|'.join(_UNITS_EN[1:10])}))?|{'|'.join(_UNITS_EN[5:])}"
              r"|\d{1,2}")
AGE_NUMBER = {
    "en": (rf"\b(?:(?:aged|of about|of around|of roughly|about|around|roughly|approximately|nearly|almost"
           rf"|just over|just under|some) (?P<n>{_NUMBER_EN})\b(?! (?:minutes|seconds|words|times|percent))"
           rf"|(?P<m>{_NUMBER_EN})(?:[- ]years?[- ]old|-something|\b(?= years of age))"
           r"|(?:in (?:his|her|their) )?(?P<part>early|mid|late)[- ]?(?P<d>twenties|thirties|forties|fifties|sixties"
           r"|seventies|eighties|nineties))"),
    # 十五六岁, 二十五六岁: two neighbouring ages, the second by its last digit
    "zh": (r"(?P<n>[一二三四五六七八九]?十[一二三四五六七八九]?|[两一二三四五六七八九]|\d{1,2})(?P<next>[一二三四五六七八九])?"
           r"(?P<more>多|来|几)?岁"
           r"(?P<around>上下|左右|出头)?"),
}
AGE_CUTS = ((14, "child"), (26, "teenager"), (40, "young_adult"), (55, "middle_aged"), (200, "elderly"))
_DIGITS_ZH = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text[0] in _DIGITS_ZH or text[0] == "十":       # 十五, 三十, 四十五, 七
        if "十" not in text:
            return _DIGITS_ZH[text]
        tens, _, units = text.partition("十")
        return 10 * (_DIGITS_ZH[tens] if tens else 1) + (_DIGITS_ZH[units] if units else 0)
    head, _, unit = text.replace(" ", "-").partition("-")
    if head in _TENS_EN:                                # fifty, fifty-five
        return _TENS_EN[head] + (_UNITS_EN.index(unit) if unit else 0)
    return _UNITS_EN.index(head)


def age_values(match: re.Match) -> set[str]:
    """The age groups a stated age fits: the number give or take two years, or the span it names ("forties":
    40-49, "late fifties": 56-59, 三十多岁: 30-39)."""
    found = match.groupdict()
    if found.get("d"):
        start = _TENS_EN[found["d"][:-3] + "y"]            # forties -> forty
        low, high = {"early": (start, start + 3), "mid": (start + 3, start + 6), "late": (start + 6, start + 9)}[
            found["part"]]
    else:
        n = _number(found.get("n") or found.get("m"))
        wide = found.get("more") or (found.get("m") and match.group(0).endswith("something"))
        low, high = (n, n + 9 if n % 10 == 0 else n + 3) if wide else (n - 2, n + 2)
        if found.get("next"):
            low, high = n, n - n % 10 + _DIGITS_ZH[found["next"]]
        if found.get("around") == "出头":
            low, high = n, n + 3
    groups = set()
    for years in range(low, high + 1):
        groups.add(next(group for cut, group in AGE_CUTS if years < cut))
    return groups
