"""The checker's phrase grammar (models/text_grammar.py): modifiers on either side of their noun, degree and
hedge words, comparatives, measure words, coordination, negation (a value stated then denied is a
distortion), and the independent case set's dev split (its holdout is only read to report a finished change:
tests/data/README-checker-independent.md)."""
import json
from pathlib import Path

import pytest

from speechcraft.models.text_checker import check

DATA = Path(__file__).parent / "data"


def found(text, labels, language="en"):
    return check(text, labels, language).found


@pytest.mark.parametrize("text, attribute, value", [
    ("A woman whose voice is rather high speaks.", "pitch", "high"),        # noun, copula, degree, adjective
    ("A woman speaks in a high, fearful voice.", "pitch", "high"),          # coordinated before the noun
    ("Her pace is a bit slower than usual.", "speed", "slow"),              # comparative
    ("He talks faster than most people.", "speed", "fast"),
    ("A low-pitched voice, a man.", "pitch", "low"),                        # hyphenated
    ("His pitch and volume are both moderate.", "volume", "normal"),        # coordinated nouns
    ("His pace is neither fast nor slow.", "speed", "normal"),
    ("Not too loud and not too quiet, happy.", "volume", "normal"),        # both sides denied
    ("She has a higher-than-average pitch.", "pitch", "high"),             # hyphenated comparative
    ("His voice soft and low.", "pitch", "low"),                           # coordinated after the noun
    ("She speaks with her voice raised.", "volume", "high"),
])
def test_english_phrases(text, attribute, value):
    assert found(text, {attribute: value}).get(attribute) == [value], text


@pytest.mark.parametrize("text, attribute, value", [
    ("她以较快的语速说话。", "speed", "fast"),                 # modifier before the noun, degree word
    ("他的音调比一般男性低一些。", "pitch", "low"),             # comparative after the noun
    ("她用一种很小的声音说话。", "volume", "low"),              # measure word between modifier and noun
    ("一副高高的嗓音。", "pitch", "high"),
    ("又高又响的声音。", "pitch", "high"),                      # coordinated adjectives share the noun
    ("音高和音量都适中。", "volume", "normal"),                 # coordinated nouns share the modifier
    ("他说话不紧不慢。", "speed", "normal"),                    # both sides denied: the middle
    ("音量不太大也不太小。", "volume", "normal"),
    ("她的声音清脆偏高。", "pitch", "high"),                    # another quality between noun and modifier
    ("她提高了嗓门。", "volume", "high"),
])
def test_chinese_phrases(text, attribute, value):
    assert value in found(text, {attribute: value}, "zh").get(attribute, []), text


@pytest.mark.parametrize("text, labels", [
    ("一位女性欢快地说话，语速平稳。", {"gender": "female", "emotion": "happy", "speed": "normal"}),   # 快 of 欢快
    ("一位老先生气愤地说话。", {"gender": "male", "age": "elderly", "emotion": "angry"}),             # 生气 across 先生
    ("一位老先生以正常的语速、不大的音量说话。", {"gender": "male", "age": "elderly", "speed": "normal", "volume": "low"}),
])
def test_a_word_inside_another_word_is_not_a_modifier(text, labels):
    verdict = check(text, labels, "zh")
    assert verdict.passed, verdict.reasons()


@pytest.mark.parametrize("text, labels, language", [
    ("A man speaks loudly. His voice isn't loud at all, actually.", {"gender": "male", "volume": "high"}, "en"),
    ("A sad woman speaks; she doesn't sound sad at all.", {"gender": "female", "emotion": "sad"}, "en"),
    ("一位男性大声说话，其实声音一点也不响。", {"gender": "male", "volume": "high"}, "zh"),
    ("一位女性语速很快，不对，她的语速并不快。", {"gender": "female", "speed": "fast"}, "zh"),
])
def test_a_value_stated_then_denied_is_a_distortion(text, labels, language):
    verdict = check(text, labels, language)
    assert not verdict.passed and verdict.distorted, (text, verdict.found)


@pytest.mark.parametrize("text, labels, language", [
    ("A man speaks, not loud at all.", {"gender": "male", "volume": "low"}, "en"),
    ("一位女性说话一点也不快。", {"gender": "female", "speed": "slow"}, "zh"),
    ("A woman, not too loud and not too quiet, happy.", {"gender": "female", "volume": "normal", "emotion": "happy"},
     "en"),                                  # a negation does not reach over a phrase read before
])
def test_a_negated_value_fits_the_others(text, labels, language):
    """"Not loud" fits low (and normal) volume: a correct negation passes."""
    verdict = check(text, labels, language)
    assert verdict.passed, verdict.reasons()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("case_set", ["checker_independent_cases.jsonl", "checker_fresh_cases.jsonl"])
def test_precision_and_recall_on_the_dev_split_of_each_independent_set(case_set, language):
    rows = [json.loads(line) for line in (DATA / case_set).open(encoding="utf-8")]
    rows = [r for r in rows if r["language"] == language and r["split"] == "dev"]
    flagged = [not check(r["text"], r["labels"], language,
                         r.get("transcript") if r["kind"] == "instruction" else None).passed for r in rows]
    bad = [not r["passes"] for r in rows]
    hits = sum(f and b for f, b in zip(flagged, bad))
    assert hits / sum(flagged) >= 0.95 and hits / sum(bad) >= 0.95


@pytest.mark.parametrize("text, attribute, value, language", [
    ("The voice is high in pitch and slow in tempo.", "pitch", "high", "en"),        # the modifier, then "in" noun
    ("Pitch: middling. Pace: quick.", "pitch", "normal", "en"),                      # a list with colons
    ("His pitch is on the low side.", "pitch", "low", "en"),
    ("Both his volume and his pace are middle-of-the-road.", "volume", "normal", "en"),   # possessives coordinated
    ("She speaks almost under her breath.", "volume", "low", "en"),
    ("音量和音调都处在中等水平。", "pitch", "normal", "zh"),
    ("她的语速也比常人快。", "speed", "fast", "zh"),
    ("用尖尖的、很大的声音说话。", "pitch", "high", "zh"),        # coordinated with a degree word on the second
])
def test_more_phrase_shapes(text, attribute, value, language):
    assert found(text, {attribute: value}, language).get(attribute) == [value], text


@pytest.mark.parametrize("text, language", [
    ("音调很高，语速中等，不对，要非常快。", "zh"),              # a correction states a second value
    ("语速偏快——其实应该说偏慢——语气平和。", "zh"),
])
def test_a_correction_is_a_distortion(text, language):
    verdict = check(text, {"speed": "normal" if "中等" in text else "fast"}, language)
    assert "speed" in verdict.distorted, verdict.reasons()


def test_a_transcript_in_single_quotes_with_an_apostrophe_is_found():
    verdict = check("A teenage girl, furious and loud, shouts 'It's my phone, give it back!'",
                    {"gender": "female", "age": "teenager", "volume": "high", "emotion": "angry"}, "en",
                    transcript="It's my phone, give it back!")
    assert verdict.passed, verdict.reasons()


def test_a_quoted_stressed_word_does_not_blank_the_same_word_elsewhere():
    """重读“快”字 names the stressed word; 语速很快 still says the speed."""
    verdict = check("少女语速很快，重读“快”字。", {"gender": "female", "age": "teenager", "speed": "fast", "emphasis": "快"},
                    "zh")
    assert verdict.passed, verdict.reasons()


def test_a_chinese_topic_is_found_in_any_order_of_its_parts():
    verdict = check("在《红楼梦》的有声书中，一位老年男性说话。", {"gender": "male", "age": "elderly", "topic": "有声书《红楼梦》"},
                    "zh")
    assert verdict.passed, verdict.reasons()


@pytest.mark.parametrize("text, attribute, value, language", [
    ("A quiet man, low in pitch, reads the news.", "pitch", "low", "en"),          # not the volume's "low"
    ("Her pitch sits high and her volume is average.", "volume", "normal", "en"),  # "high and volume" is no list
    ("The tone should be low.", "pitch", "low", "en"),                             # a modal between noun and value
    ("Steady in pitch, volume and pace alike: moderate in pitch, volume and pace.", "pace", None, "en"),
    ("A boy, his pitch kept at a normal level, speaks loudly.", "pitch", "normal", "en"),
    ("他说话时语速和平时差不多。", "speed", "normal", "zh"),                            # like usual is the middle
    ("她用比平常快一些的语速说话。", "speed", "fast", "zh"),                            # a comparison before the noun
    ("音高：中；音量：大。", "pitch", "normal", "zh"),                                 # a field's one-character middle
    ("音调和音量都不高不低。", "volume", "normal", "zh"),
    ("音量刚刚好。", "volume", "normal", "zh"),
])
def test_this_rounds_phrase_shapes(text, attribute, value, language):
    if value is None:       # a noun of no attribute: just no error
        return
    assert found(text, {attribute: value}, language).get(attribute) == [value], text


@pytest.mark.parametrize("text, labels, language", [
    ("His pitch is low—well, no, actually quite high.", {"pitch": "low"}, "en"),
    ("A man with a low pitch (actually, no, make it fairly high).", {"pitch": "low"}, "en"),
    ("音量很大——不，还是放小一点。", {"volume": "high"}, "zh"),
    ("音调不高不低——不，其实偏低。", {"pitch": "normal"}, "zh"),
])
def test_a_correction_after_a_dash_or_in_brackets_is_a_distortion(text, labels, language):
    verdict = check(text, labels, language)
    assert list(labels)[0] in verdict.distorted, verdict.reasons()


@pytest.mark.parametrize("text, invents, language", [
    ("A calm man, sitting at his desk, speaks at a moderate pitch.", True, "en"),       # a posture
    ("A calm man speaks, his pitch sitting at a moderate level.", False, "en"),        # the voice's, not his
    ("A calm man who has just lost his job speaks at a moderate pitch.", True, "en"),  # a back story
    ("Imagine a calm man speaking at a moderate pitch.", False, "en"),                 # framing, not a story
    ("一位男性坐在窗前，语气平静，音调适中。", True, "zh"),
    ("一位男性语气平静，音调适中，音量刚刚好。", False, "zh"),                             # 刚刚好 is no back story
])
def test_postures_settings_and_back_stories_are_invented(text, invents, language):
    labels = {"gender": "male", "emotion": "neutral", "pitch": "normal"}
    assert bool(check(text, labels, language).invented) == invents, check(text, labels, language).reasons()


def test_excitement_is_joy_or_surprise_and_distorts_calm():
    assert check("An excited woman speaks.", {"gender": "female", "emotion": "happy"}, "en").passed
    assert check("An excited woman speaks.", {"gender": "female", "emotion": "surprised"}, "en").passed
    assert "emotion" in check("一位女性语气平静，却透着兴奋。", {"gender": "female", "emotion": "neutral"}, "zh").distorted
