"""The embedded description generator: descriptions and instructions from a clip's labels, in its language.

Diversity comes the way the paper got it from LLM rewriting, by design rather than by a model: the attributes
are mentioned in a random order, each through one of several synonymous phrases, inside one of several
sentence shapes, and optional attributes (topic, emphasis) are mentioned or not as configured. The random
generator is seeded by the clip id and the attempt, so a rerun writes the same texts. Every text goes
through the checker before it is returned.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from ..vocabulary import CONDITION_LABEL_NAMES
from .annotators import BackendInfo
from .text_checker import Verdict, check, check_labels

# --- English --------------------------------------------------------------------------------------------
_EN_NOUN = {"female": ["woman", "female speaker", "lady"], "male": ["man", "male speaker", "gentleman"],
            None: ["speaker", "person"]}
_EN_AGE = {"child": ["little", "young"], "teenager": ["teenage", "adolescent"], "young_adult": ["young"],
           "middle_aged": ["middle-aged"], "elderly": ["elderly", "old"]}
_EN_CHILD = {"female": ["little girl", "young girl"], "male": ["little boy", "young boy"], None: ["child", "kid"]}
_EN_TEEN = {None: ["teenager", "teenage speaker"]}
_EN_PRONOUN = {"female": ("she", "her"), "male": ("he", "his"), None: ("the speaker", "the speaker's")}
_EN = {
    "pitch": {"high": ["with a high-pitched voice", "in a high pitch", "with a shrill, high voice",
                       "with a high-pitched tone"],
              "low": ["with a deep voice", "in a low-pitched voice", "with a low pitch", "in a deep, low tone"],
              "normal": ["at a moderate pitch", "with a medium pitch", "with a natural pitch", "at an average pitch"]},
    "volume": {"high": ["loudly", "in a loud voice", "at a high volume", "with high energy"],
               "low": ["softly", "quietly", "at a low volume", "in a hushed voice"],
               "normal": ["at a moderate volume", "at a normal volume", "at a comfortable volume",
                          "neither loud nor soft"]},
    "speed": {"fast": ["quickly", "rapidly", "at a brisk pace", "at a fast pace"],
              "slow": ["slowly", "at a slow pace", "at a leisurely pace", "in an unhurried manner"],
              "normal": ["at a moderate pace", "at a steady pace", "at a normal speed",
                         "neither too fast nor too slow"]},
    "emotion": {"angry": ["angrily", "with anger", "in an angry tone", "sounding irritated"],
                "disgusted": ["with disgust", "in a disgusted tone", "sounding disgusted", "with evident distaste"],
                "fearful": ["fearfully", "in a frightened tone", "sounding afraid", "anxiously"],
                "happy": ["happily", "cheerfully", "in a joyful tone", "sounding delighted"],
                "neutral": ["in a calm tone", "in a neutral tone", "calmly", "in an even tone"],
                "sad": ["sadly", "in a sorrowful tone", "sounding melancholy", "mournfully"],
                "surprised": ["in a surprised tone", "sounding astonished", "with surprise", "in amazement"]},
    # the recording conditions and delivery: only with describe's `conditions` option
    "noise": {"clean": ["in a clean recording", "with no background noise", "in a noise-free recording",
                        "on a clear recording"],
              "moderate_noise": ["with some background noise", "with a little background noise",
                                 "over mild background noise", "in a slightly noisy recording"],
              "noisy": ["in a noisy recording", "over loud background noise", "with heavy background noise",
                        "in noisy surroundings"]},
    "reverberation": {"close": ["close to the microphone", "close-miked, with no echo", "near the microphone",
                                "in a close, dry recording"],
                      "moderate_distance": ["at some distance from the microphone", "with a slight echo",
                                            "at a moderate distance from the microphone",
                                            "a little way from the microphone"],
                      "distant": ["sounding distant in an echoing room", "far from the microphone",
                                  "with a strong echo", "in a reverberant room"]},
    "monotony": {"monotone": ["in a flat, monotone voice", "monotonously", "with a flat intonation",
                              "with little variation in pitch"],
                 "moderate_variation": ["with some variation in pitch", "with moderately varied intonation",
                                        "with a little inflection", "somewhat expressively"],
                 "expressive": ["expressively, with lively intonation", "in an animated, expressive way",
                                "with a lively, varied intonation", "with rich intonation"]},
    "topic": ["on the subject of {}", "talking about {}", "in a passage about {}", "on the topic of {}"],
    "emphasis": ["stressing the word '{}'", "with emphasis on '{}'", "putting stress on '{}'", "highlighting '{}'"],
}
_EN_VERBS = ["speaks", "talks", "is speaking", "delivers the words"]
_EN_SHAPES = ["{S} {v} {m}.", "{M0}, {s} {v} {r}.", "{S} {v} {m0}; {p} goes on {r}.", "Here {s} {v} {m}."]
_EN_INSTRUCTIONS = ["{S} says {q} {m}.", "In the voice of {s}, {m}, say: {q}", "{M0}, {s} says {q} {r}.",
                    "Speak as {s}, {m}: {q}"]

# --- Chinese --------------------------------------------------------------------------------------------
_ZH_SUBJECT = {
    ("female", "child"): ["一个小女孩", "一名女童"], ("male", "child"): ["一个小男孩", "一名男童"],
    ("female", "teenager"): ["一位少女", "一个十几岁的女孩"], ("male", "teenager"): ["一个十几岁的男孩", "一位少年男生"],
    ("female", "young_adult"): ["一位年轻女性", "一位年轻女子", "一名青年女性"],
    ("male", "young_adult"): ["一位年轻男性", "一位青年男子", "一个年轻小伙"],
    ("female", "middle_aged"): ["一位中年女性", "一位中年女士"], ("male", "middle_aged"): ["一位中年男性", "一位中年男士"],
    ("female", "elderly"): ["一位老年女性", "一位老奶奶", "一位年迈的女士"],
    ("male", "elderly"): ["一位老年男性", "一位老爷爷", "一位年迈的老先生"],
    ("female", None): ["一位女性", "一位女士"], ("male", None): ["一位男性", "一位男士"],
    (None, "child"): ["一个孩子", "一名儿童"], (None, "teenager"): ["一位青少年"], (None, "young_adult"): ["一位青年"],
    (None, "middle_aged"): ["一位中年人"], (None, "elderly"): ["一位老人", "一位年长者"], (None, None): ["说话人", "这位说话人"],
}
_ZH = {
    "pitch": {"high": ["音调偏高", "声音尖细", "嗓音高亢", "音调较高"], "low": ["嗓音低沉", "音调偏低", "声音浑厚", "音调较低"],
              "normal": ["音调适中", "音高正常", "音调不高不低"]},
    "volume": {"high": ["音量较大", "声音洪亮", "音量偏大", "声音响亮"], "low": ["音量较小", "轻声细语", "声音轻柔", "音量偏低"],
               "normal": ["音量适中", "音量正常", "声音不大不小"]},
    "speed": {"fast": ["语速较快", "语速飞快", "语速偏快", "语速很快"], "slow": ["语速较慢", "语速缓慢", "语速偏慢", "慢悠悠地说话"],
              "normal": ["语速适中", "语速平稳", "不紧不慢", "语速正常"]},
    "emotion": {"angry": ["语气愤怒", "带着怒气", "气愤地说话", "语气中透着不满"],
                "disgusted": ["带着厌恶", "语气嫌弃", "流露出反感"], "fearful": ["语气害怕", "带着恐惧", "惊恐地说话"],
                "happy": ["语气开心", "欢快地说话", "带着喜悦", "语气愉快"], "neutral": ["语气平静", "语气平和", "不带情绪"],
                "sad": ["语气悲伤", "难过地说话", "语气低落", "忧伤地说话"], "surprised": ["语气惊讶", "吃惊地说话", "带着诧异"]},
    "noise": {"clean": ["录音干净", "背景没有噪音", "录音清晰无杂音", "音质纯净"],
              "moderate_noise": ["有些背景噪音", "略有杂音", "背景有轻微的噪音", "夹杂着少许噪音"],
              "noisy": ["背景嘈杂", "噪音很大", "环境嘈杂", "背景噪音明显"]},
    "reverberation": {"close": ["声音很近", "离麦克风很近", "近距离录制，没有回声", "贴近话筒"],
                      "moderate_distance": ["距离适中", "离麦克风不远不近", "带一点回声", "略有混响"],
                      "distant": ["声音较远，有回声", "离麦克风较远", "带着明显的回声", "混响很重"]},
    "monotony": {"monotone": ["语调平淡", "语调单调", "语调平直，没有起伏", "平铺直叙"],
                 "moderate_variation": ["语调略有起伏", "语调稍有变化", "抑扬适中", "语调有些起伏"],
                 "expressive": ["语调抑扬顿挫", "语调生动", "富有表现力", "语调起伏丰富"]},
    "topic": ["围绕{}这一话题", "谈论{}", "讲述关于{}的内容"],
    "emphasis": ["在“{}”这个词上加重语气", "重读了“{}”", "着重强调“{}”一词"],
}
_ZH_SHAPES = ["{S}{m}。", "{S}在说话，{m}。", "这段语音中，{s}{m}。", "{S}的声音：{m}。"]
_ZH_INSTRUCTIONS = ["{S}{m}，说道：{q}", "请用{s}的声音，{m}，说：{q}", "{S}{m}地说：{q}", "{S}，{m}，读出：{q}"]

PROSODY = ("pitch", "volume", "speed", "emotion")
CONDITIONS = tuple(CONDITION_LABEL_NAMES)      # in the labels only with describe's `conditions` option


@dataclass
class DescriberConfig:
    mention_topic: float = 1.0        # probability of mentioning each optional attribute when it is known
    mention_emphasis: float = 1.0
    attempts: int = 8


class GenerationError(RuntimeError):
    pass


class EmbeddedDescriber:
    name = "embedded"
    model = "templates/1"

    def __init__(self, config: DescriberConfig | None = None, **_options):
        self.config = config or DescriberConfig()

    def describe(self) -> BackendInfo:
        return BackendInfo(self.name, self.model, "none (phrase tables in models/describer.py)",
                           f"{self.model}; {self.config}")

    def write(self, clip_id: str, labels: dict[str, str], language: str, transcript: str | None = None) -> tuple[str, int]:
        """(text, attempts): a description, or with `transcript` an instruction, that passes the checker."""
        text, attempt, _ = self.write_judged(clip_id, labels, language, transcript)
        return text, attempt

    def write_judged(self, clip_id: str, labels: dict[str, str], language: str,
                     transcript: str | None = None) -> tuple[str, int, Verdict]:
        """(text, attempts, the checker's verdict on the text for all of `labels`): what `write` returns, and
        the verdict the describe stage stores, without judging the text a second time when it mentions every
        label (it may leave an optional one out, and is then judged again against all of them)."""
        labels = check_labels(labels)
        for attempt in range(1, self.config.attempts + 1):
            rng = random.Random(hashlib.sha256(f"{clip_id}\x1f{transcript is not None}\x1f{attempt}".encode()).digest())
            mentioned = self._mentioned(labels, rng)
            text = (_english if language == "en" else _chinese)(mentioned, transcript, rng)
            verdict = check(text, mentioned, language, transcript)
            if verdict.passed:
                return text, attempt, verdict if mentioned == labels else check(text, labels, language, transcript)
        raise GenerationError(f"{clip_id}: no text passed the checker in {self.config.attempts} attempts ({labels})")

    def _mentioned(self, labels: dict[str, str], rng: random.Random) -> dict[str, str]:
        keep = {"topic": self.config.mention_topic, "emphasis": self.config.mention_emphasis}
        return {k: v for k, v in labels.items() if rng.random() < keep.get(k, 1.0)}


def attribute_phrases(labels: dict[str, str], language: str, rng: random.Random) -> dict[str, str]:
    """One of this generator's phrases per known label ("speaker" for gender and age together, e.g. "an
    elderly man" / 一位老年男性): the LLM prompt offers them, so that a small model need not know the words."""
    table = _EN if language == "en" else _ZH
    gender, age = labels.get("gender"), labels.get("age")
    phrases = {"speaker": _english_subject(gender, age, rng) if language == "en"
               else rng.choice(_ZH_SUBJECT[(gender, age)])} if gender or age else {}
    for attribute, value in labels.items():
        if attribute in ("topic", "emphasis"):
            phrases[attribute] = rng.choice(table[attribute]).format(value)
        elif attribute in table:
            phrases[attribute] = rng.choice(table[attribute][value])
    return phrases


def _modifiers(table: dict, labels: dict[str, str], rng: random.Random) -> list[str]:
    mods = [rng.choice(table[a][labels[a]]) for a in (*PROSODY, *CONDITIONS) if a in labels]
    mods += [rng.choice(table[a]).format(labels[a]) for a in ("topic", "emphasis") if a in labels]
    rng.shuffle(mods)
    return mods


def _english(labels: dict[str, str], transcript: str | None, rng: random.Random) -> str:
    gender, age = labels.get("gender"), labels.get("age")
    subject = _english_subject(gender, age, rng)
    mods = _modifiers(_EN, labels, rng) or ["clearly"]
    joined = _join_en(mods)
    values = {"S": subject[0].upper() + subject[1:], "s": subject, "v": rng.choice(_EN_VERBS), "m": joined,
              "m0": mods[0], "M0": mods[0][0].upper() + mods[0][1:], "r": _join_en(mods[1:]) or "clearly",
              "p": _EN_PRONOUN[gender][0], "q": rng.choice(['"{}"', "“{}”"]).format(transcript)}
    shapes = _EN_INSTRUCTIONS if transcript is not None else _EN_SHAPES
    if len(mods) < 2:
        shapes = [s for s in shapes if "{r}" not in s]
    return rng.choice(shapes).format(**values)


def _english_subject(gender: str | None, age: str | None, rng: random.Random) -> str:
    if age == "child":
        phrase = rng.choice(_EN_CHILD[gender])
    elif age == "teenager" and gender is None:
        phrase = rng.choice(_EN_TEEN[None])
    elif age == "teenager":
        phrase = f"{rng.choice(_EN_AGE[age])} {'girl' if gender == 'female' else 'boy'}"
    elif age is not None:
        phrase = f"{rng.choice(_EN_AGE[age])} {rng.choice(_EN_NOUN[gender])}"
    else:
        phrase = rng.choice(_EN_NOUN[gender])
    return ("an " if phrase[0] in "aeio" else "a ") + phrase


def _join_en(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _chinese(labels: dict[str, str], transcript: str | None, rng: random.Random) -> str:
    subject = rng.choice(_ZH_SUBJECT[(labels.get("gender"), labels.get("age"))])
    mods = _modifiers(_ZH, labels, rng) or ["吐字清楚"]
    values = {"S": subject, "s": subject, "m": "，".join(mods), "q": f"“{transcript}”"}
    shapes = _ZH_INSTRUCTIONS if transcript is not None else _ZH_SHAPES
    return rng.choice(shapes).format(**values)
