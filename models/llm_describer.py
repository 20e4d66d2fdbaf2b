"""LLM description generators behind one interface: transformers generation (CPU or GPU) and vLLM offline
batched generation (GPU; its own optional install, `pip install -e '.[vllm]'`).

`generate(requests, attempt) -> texts`: one text per request, sampled as the paper's generator was
(temperature 0.7, top-p 0.3, repetition penalty 1.1, 128 new tokens), seeded by the attempt so a retry
differs from the try before it. Two prompts (the backend's `prompt` option). "paper" follows
docs/annotation-contract.md: the clip's attributes in a shuffled order, a worked example, and the rules
against invented content. "guided" (the default) is for small models: one of the embedded generator's
phrases per label, to be joined into one sentence, two examples, the first attempt greedy and every answer
cut at its first line break. What comes back is screened (`screen`) and then judged by the checker in
tasks/descriptions.py; nothing here decides what is published.
"""
from __future__ import annotations

import hashlib
import importlib.util
import random
import re
from dataclasses import dataclass
from pathlib import Path

from . import packaged
from .annotators import BackendInfo
from .describer import attribute_phrases
from .hf_audio import LocalModel, ModelLoadError, ModelSource, packaged_source, resolve_model


@dataclass(frozen=True)
class TextRequest:
    clip_id: str
    labels: dict
    language: str
    transcript: str | None = None     # given: an instruction; None: a description


RULES = {
    "en": ("You write one or two natural English sentences describing how a speech clip is spoken, for a "
           "text-to-speech dataset. Mention every attribute you are given, with its exact value or a clear "
           "synonym, and nothing else: no body language, facial expressions, thoughts, feelings beyond the "
           "given emotion, or story. {task} Answer with the text only."),
    "zh": ("你为语音合成数据集写一到两句自然的中文，描述一段语音是怎样说出来的。给出的每个属性都要用其值或明确的同义词写出，"
           "不要添加其他内容：不写动作、表情、心理活动、给定情绪以外的感受或故事情节。{task}只输出这段文字。"),
}
TASKS = {
    ("en", False): "Do not include what is said.",
    ("en", True): "Include the transcript exactly, in double quotes, as what the speaker says.",
    ("zh", False): "不要写出说话的内容。",
    ("zh", True): "把文本原样放在中文引号“”里，作为说话人说的话。",
}
EXAMPLES = {
    "en": [("gender: male; age: middle_aged; pitch: low; speed: slow; emotion: sad",
            "A middle-aged man speaks slowly in a deep voice, sounding sad.")],
    "zh": [("性别: 女; 年龄: 青年; 音高: 高; 语速: 快; 情绪: 开心", "一位年轻女性音调偏高，语速较快，语气开心。")],
}
# With describe's `conditions` option the labels also hold noise, reverberation and monotony: the prompt names
# them in plain words, and its example states them.
CONDITION_KEYS = {"en": {"noise": "background noise", "reverberation": "distance from the microphone",
                         "monotony": "intonation"},
                  "zh": {"noise": "背景噪音", "reverberation": "与麦克风的距离", "monotony": "语调"}}
CONDITION_VALUES = {"en": {"noisy": "noisy", "moderate_noise": "some", "clean": "none (clean recording)",
                           "distant": "distant (echoing)", "moderate_distance": "moderate", "close": "close",
                           "monotone": "flat, monotone", "moderate_variation": "some variation",
                           "expressive": "expressive"},
                    "zh": {"noisy": "嘈杂", "moderate_noise": "有一些", "clean": "没有（录音干净）", "distant": "远（有回声）",
                           "moderate_distance": "适中", "close": "近", "monotone": "平淡", "moderate_variation": "略有起伏",
                           "expressive": "抑扬顿挫"}}
CONDITION_EXAMPLES = {
    "en": [("gender: male; age: middle_aged; pitch: low; speed: slow; emotion: sad; background noise: some; "
            "distance from the microphone: close; intonation: flat, monotone",
            "A middle-aged man speaks slowly in a deep voice, sounding sad, in a flat, monotone voice, close to "
            "the microphone, with some background noise.")],
    "zh": [("性别: 女; 年龄: 青年; 音高: 高; 语速: 快; 情绪: 开心; 背景噪音: 没有（录音干净）; 与麦克风的距离: 远（有回声）; "
            "语调: 抑扬顿挫", "一位年轻女性音调偏高，语速较快，语气开心，语调抑扬顿挫，离麦克风较远，带着回声，录音干净。")],
}
ZH_VALUES = {"female": "女", "male": "男", "child": "儿童", "teenager": "少年", "young_adult": "青年",
             "middle_aged": "中年", "elderly": "老年", "low": "低", "normal": "中", "high": "高", "slow": "慢",
             "fast": "快", "angry": "愤怒", "disgusted": "厌恶", "fearful": "恐惧", "happy": "开心", "neutral": "中性",
             "sad": "悲伤", "surprised": "惊讶"}
ZH_KEYS = {"gender": "性别", "age": "年龄", "pitch": "音高", "volume": "音量", "speed": "语速", "emotion": "情绪",
           "emphasis": "重读", "topic": "话题"}
SAMPLING = {"temperature": 0.7, "top_p": 0.3, "repetition_penalty": 1.1, "max_new_tokens": 128}
_REFUSAL = re.compile(r"(?i)\b(?:i'm sorry|i am sorry|i cannot|i can't|as an ai|i am unable)\b|抱歉|作为一个?(?:AI|人工智能)|无法完成")


def messages(request: TextRequest, seed: int = 0) -> list[dict]:
    """The chat for one request: rules, a worked example, then the attributes in a shuffled order."""
    language = request.language
    rng = random.Random(hashlib.sha256(f"{request.clip_id}\x1f{seed}".encode()).digest())
    items = list(request.labels.items())
    rng.shuffle(items)
    keys, values = CONDITION_KEYS[language], CONDITION_VALUES[language]
    conditions = any(k in keys for k in request.labels)
    if language == "zh":
        attributes = "; ".join(f"{keys.get(k) or ZH_KEYS[k]}: {values.get(v) if k in keys else ZH_VALUES.get(v, v)}"
                               for k, v in items)
    else:
        attributes = "; ".join(f"{keys.get(k, k)}: {values[v] if k in keys else v}" for k, v in items)
    if request.transcript is not None:
        attributes += f"; {'文本' if language == 'zh' else 'transcript'}: {request.transcript}"
    chat = [{"role": "system", "content": RULES[language].format(task=TASKS[(language, request.transcript is not None)])}]
    for given, answer in (CONDITION_EXAMPLES if conditions else EXAMPLES)[language]:
        chat += [{"role": "user", "content": given}, {"role": "assistant", "content": answer}]
    return chat + [{"role": "user", "content": attributes}]


# The guided prompt, for small models (SmolLM2-135M omitted or distorted most attributes given as bare labels,
# and wrote no Chinese at all): the words to use, taken from the embedded generator's phrase tables (a random
# synonym each, so texts still vary), to be joined into one sentence; two examples of the same language and kind.
GUIDED_RULES = {
    ("en", False): "Join the given phrases into one fluent English sentence about how a person speaks. Use every "
                   "phrase, in any order, and add nothing else.",
    ("en", True): "Join the given phrases into one fluent English sentence about how a person speaks, with the "
                  "transcript unchanged in double quotes as what they say. Use every phrase and add nothing else.",
    ("zh", False): "把给出的词语连成一句通顺的中文，描述一个人说话的方式。每个词语都要用上，不要添加其他内容。",
    ("zh", True): "把给出的词语连成一句通顺的中文，描述一个人说话的方式，并把文本原样放在中文引号“”里作为说话人说的话。"
                  "每个词语都要用上，不要添加其他内容。",
}
GUIDED_EXAMPLES = {
    ("en", False): [("an elderly man | slowly | in a deep, low tone | sadly",
                     "An elderly man speaks slowly and sadly in a deep, low tone."),
                    ("a young woman | at a normal volume | quickly | with a high-pitched voice | happily",
                     "A young woman speaks quickly and happily with a high-pitched voice, at a normal volume.")],
    ("en", True): [("a middle-aged woman | loudly | angrily\ntranscript: Close the door.",
                    'A middle-aged woman says "Close the door." loudly and angrily.'),
                   ("a teenage boy | at a moderate pace | with a low pitch | in a calm tone\ntranscript: I will be "
                    "home soon.", 'In a calm tone, a teenage boy says "I will be home soon." at a moderate pace '
                    "with a low pitch.")],
    ("zh", False): [("一位老年男性｜语速缓慢｜嗓音低沉｜语气悲伤", "一位老年男性语速缓慢，嗓音低沉，语气悲伤。"),
                    ("一位年轻女性｜音量适中｜语速较快｜音调偏高｜语气开心", "一位年轻女性语速较快，音调偏高，音量适中，语气开心。")],
    ("zh", True): [("一位中年女性｜声音洪亮｜语气愤怒\n文本：把门关上", "一位中年女性声音洪亮，语气愤怒地说：“把门关上”"),
                   ("一位少年男生｜语速适中｜音调偏低｜语气平静\n文本：我马上就到家", "一位少年男生语速适中，音调偏低，语气平静，说道：“我马上就到家”")],
}


def guided_messages(request: TextRequest, seed: int = 0) -> list[dict]:
    """The chat for a small model: rules for this language and kind, two worked examples, then the phrases
    to use (the speaker first, the rest shuffled per clip and attempt) and the transcript."""
    language, kind = request.language, request.transcript is not None
    rng = random.Random(hashlib.sha256(f"{request.clip_id}\x1f{seed}".encode()).digest())
    phrases = attribute_phrases(request.labels, language, rng)
    speaker = [phrases.pop("speaker")] if "speaker" in phrases else []
    rest = list(phrases.values())
    rng.shuffle(rest)
    given = ("｜" if language == "zh" else " | ").join(speaker + rest)
    if kind:
        given += f"\n{'文本：' if language == 'zh' else 'transcript: '}{request.transcript}"
    chat = [{"role": "system", "content": GUIDED_RULES[(language, kind)]}]
    for example, answer in GUIDED_EXAMPLES[(language, kind)]:
        chat += [{"role": "user", "content": example}, {"role": "assistant", "content": answer}]
    return chat + [{"role": "user", "content": given}]


def screen(text: str | None, language: str) -> str | None:
    """Why an output cannot be a text at all (None when it can): empty, a refusal, another language."""
    if not text or not text.strip():
        return "empty output"
    if _REFUSAL.search(text):
        return "refusal"
    han = len(re.findall(r"[\u3400-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if language == "zh" and han < max(4, latin):
        return "not Chinese"
    if language == "en" and (han > 0 or latin < 10):
        return "not English"
    return None


LLM_INSTALL = "pip install 'speechcraft-lakehouse[llm]'"
GGUF_NEEDS = ("transformers", "gguf", "accelerate")     # what transformers needs to read a GGUF file


def llm_source(spec: str, allow_download: bool = False) -> ModelSource:
    """Where a causal LM's weights are: a packaged name (`smollm2-135m-instruct`, a GGUF file inside a
    package), a GGUF file, a folder holding one GGUF file, or a transformers folder or hub id in the local
    cache (hf_audio.resolve_model). A GGUF model also needs the packages that read it: ModelLoadError says
    what to install, before anything loads."""
    path = Path(spec).expanduser()
    if spec in packaged.MODELS:
        source = packaged_source(spec)
    elif path.is_file() or (path.is_dir() and not (path / "config.json").exists() and any(path.glob("*.gguf"))):
        source = _gguf_source(spec, path)
    else:
        return resolve_model(spec, allow_download)
    missing = [name for name in GGUF_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelLoadError(f"reading the GGUF model {spec!r} needs {' and '.join(missing)}: {LLM_INSTALL}")
    return source


def _gguf_source(spec: str, path: Path) -> ModelSource:
    files = [path] if path.is_file() else sorted(path.glob("*.gguf"))
    if path.is_file() and path.suffix != ".gguf":
        raise ModelLoadError(f"model file {path} is not a GGUF file: give a .gguf file, a folder a transformers "
                             f"model was saved to, or a packaged name ({', '.join(packaged.MODELS)})")
    if len(files) > 1:
        raise ModelLoadError(f"model folder {path} holds {len(files)} GGUF files: name one of them "
                             f"({', '.join(f.name for f in files)})")
    stat = files[0].stat()        # name, size and time: a new file is a new version (its texts are redone)
    return ModelSource(spec, files[0].resolve(), f"GGUF file {files[0].resolve()}",
                       f"{files[0].name}@{stat.st_size}-{stat.st_mtime_ns}")


@dataclass(frozen=True)
class Prompting:
    """How the attempts are asked for: the chat, whether the first attempt is greedy (the retries sample, as
    the paper did, seeded by the attempt), and whether the answer ends at its first line break (a text is one
    or two sentences; a small model that goes on writes lists and other texts after it)."""
    chat: object
    greedy_first: bool
    one_line: bool


PROMPTINGS = {"paper": Prompting(messages, greedy_first=False, one_line=False),
              "guided": Prompting(guided_messages, greedy_first=True, one_line=True)}
DEFAULT_PROMPTING = "guided"


class TransformersDescriber(LocalModel):
    name = "transformers"

    def __init__(self, model: str, device: str = "auto", batch_size: int = 16, allow_download: bool = False,
                 max_new_tokens: int = SAMPLING["max_new_tokens"], prompt: str = DEFAULT_PROMPTING, **_options):
        super().__init__(llm_source(model, allow_download), device, batch_size)
        self.max_new_tokens, self.prompting = max_new_tokens, _prompting(prompt)
        self.prompt = prompt

    def load_network(self, path, dtype):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # a GGUF file is read (and de-quantised) from its folder by name; a folder is read whole
        folder, gguf = (path.parent, {"gguf_file": path.name}) if path.suffix == ".gguf" else (path, {})
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, padding_side="left", **gguf)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True, **gguf)

    def describe(self) -> BackendInfo:
        return BackendInfo(self.name, self.source.spec, self.source.where,
                           f"{self.source.version}; {SAMPLING}{_prompt_version(self.prompt)}")

    def generate(self, requests: list[TextRequest], attempt: int = 1) -> list[str]:
        import torch

        from .hf_audio import in_batches

        self.load()
        prompts = [self._prompt(self.prompting.chat(r, attempt)) for r in requests]
        greedy = attempt == 1 and self.prompting.greedy_first
        sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": SAMPLING["temperature"],
                                      "top_p": SAMPLING["top_p"]}
        stop = {"stop_strings": ["\n"], "tokenizer": self.tokenizer} if self.prompting.one_line else {}

        def run(batch: list[str]) -> list[str]:
            inputs = self.tokenizer(list(batch), return_tensors="pt", padding=True).to(self.device)
            torch.manual_seed(attempt)
            with torch.inference_mode():
                out = self.network.generate(**inputs, **sampling, **stop,
                                            repetition_penalty=SAMPLING["repetition_penalty"],
                                            max_new_tokens=self.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id)
            return self.tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

        texts = [t.strip() for t in in_batches(prompts, self.batch_size, run)]
        return [t.split("\n")[0].strip() for t in texts] if self.prompting.one_line else texts

    def _prompt(self, chat: list[dict]) -> str:
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in chat) + "\n\n"


class VLLMDescriber:
    """vLLM's offline engine: the whole batch in one `LLM.chat` call, continuous batching on the GPU."""
    name = "vllm"

    def __init__(self, model: str, tensor_parallel: int = 1, allow_download: bool = False,
                 max_new_tokens: int = SAMPLING["max_new_tokens"], prompt: str = DEFAULT_PROMPTING, **_options):
        self.source = resolve_model(model, allow_download)
        self.tensor_parallel, self.max_new_tokens = tensor_parallel, max_new_tokens
        self.prompt, self.prompting = prompt, _prompting(prompt)
        self.engine = None

    def load(self) -> None:
        if self.engine is not None:
            return
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ImportError("the vllm backend needs vLLM on a GPU machine: pip install -e '.[vllm]'") from exc
        self.engine = LLM(model=str(self.source.path), tensor_parallel_size=self.tensor_parallel, seed=0)

    def describe(self) -> BackendInfo:
        return BackendInfo(self.name, self.source.spec, self.source.where,
                           f"{self.source.version}; tp={self.tensor_parallel}; {SAMPLING}{_prompt_version(self.prompt)}")

    def generate(self, requests: list[TextRequest], attempt: int = 1) -> list[str]:
        from vllm import SamplingParams

        self.load()
        greedy = attempt == 1 and self.prompting.greedy_first
        params = SamplingParams(temperature=0.0 if greedy else SAMPLING["temperature"], top_p=SAMPLING["top_p"],
                                repetition_penalty=SAMPLING["repetition_penalty"], max_tokens=self.max_new_tokens,
                                seed=attempt, stop=["\n"] if self.prompting.one_line else None)
        outputs = self.engine.chat([self.prompting.chat(r, attempt) for r in requests], params, use_tqdm=False)
        return [o.outputs[0].text.strip() if o.outputs else "" for o in outputs]


def _prompting(name: str) -> Prompting:
    if name not in PROMPTINGS:
        raise ValueError(f"unknown prompt {name!r}; choose from {', '.join(PROMPTINGS)}")
    return PROMPTINGS[name]


def _prompt_version(name: str) -> str:
    # the paper's prompt keeps the version (and so the config hash) its texts were written under
    return "" if name == "paper" else f"; prompt={name}"
