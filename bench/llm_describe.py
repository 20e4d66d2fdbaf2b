"""The describe stage's LLM path with a real model: the packaged SmolLM2-135M-Instruct (GGUF, transformers, CPU)
over clips of both languages, judged by the project's checker, beside the paper's Table 3.

    python bench/llm_describe.py [--clips 50] [--half holdout] [--prompts paper,guided] [--retries 2]
                                 [--paper-retries 0] [--model smollm2-135m-instruct] [--threads 1]
                                 [--batch-size 16] [--json FILE]

The clips are synthetic label sets over the whole vocabulary (gender, five age groups, pitch, volume, speed,
seven emotions; a topic on a quarter of them, a stressed word of the transcript on an eighth), each with a
transcript, --clips per language, and each gets a description and an instruction, as describe writes them:
`tasks.descriptions.write_texts`, the stage's own code (the LLM's attempts, the screen and the checker on every
one, the retries, the embedded generator's fallback), without the Prefect task and the Lance write around it.
Clip i is in the tuning half when i is even and in the held-out half when odd; --half picks which are run
(the guided prompt was written looking at the tuning half only); `--half all` runs both and reports each
half on its own (the speed line is the whole run's).

Printed per prompt and language: the first attempt's raw rates (pass, screened out as empty / refusal / wrong
language, texts with an omission, with a distortion, with a transcript problem, with invented content; a
screened text is judged by the checker too for the omission and distortion rates), the paper's figures beside
them; then what the retries and the fallback make of it (published from the LLM, at which attempt, published
from the embedded generator, and every published text judged again: none fails); then the model's load time
and texts per second (LLM attempts per second of generation, published texts per second of the whole batch).
`--paper-retries 0` (the default) runs the paper's prompt for its first attempt only, which is what its raw
rates need and a third of its cost. Run with one or two threads on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Table 3 of the SpeechCraft paper: its fine-tuned LLaMA-2, share of texts with an omission / a distortion
PAPER = {"en": (0.0195, 0.0750), "zh": (0.0388, 0.0614)}
# (transcript, its stressed word when a clip has one: a content word, as the regenerated clips stress)
TRANSCRIPTS = {
    "en": [("The train leaves at seven tomorrow morning.", "seven"), ("I never said she stole the money.", "stole"),
           ("Please close the window before you go.", "window"), ("We found the old letters in the attic.", "letters"),
           ("The river was wide and very cold.", "river"), ("Could you tell me where the library is?", "library"),
           ("That was the best story I have heard all year.", "story"),
           ("He planted the roses along the garden wall.", "roses"),
           ("Nobody expected the storm to arrive so early.", "storm"), ("Turn left at the second light.", "second"),
           ("The children laughed at the little dog.", "children"), ("She kept the key under a stone.", "key")],
    "zh": [("明天早上七点火车出发", "火车"), ("我从来没说过她偷了钱", "偷"), ("走之前请把窗户关上", "窗户"),
           ("我们在阁楼里找到了旧信", "旧信"), ("那条河又宽又冷", "河"), ("请问图书馆在哪里", "图书馆"),
           ("这是我今年听过最好的故事", "故事"), ("他在花园墙边种了玫瑰", "玫瑰"), ("没有人想到暴风雨来得这么早", "暴风雨"),
           ("在第二个路口向左转", "第二个"), ("孩子们笑那只小狗", "小狗"), ("她把钥匙藏在石头下面", "钥匙")],
}
TOPICS = {"en": ["history", "science and technology", "travel", "sports", "music"],
          "zh": ["历史", "科技", "旅游", "体育", "音乐"]}


def clips(per_language: int, seed: int = 0) -> list:
    """Label sets drawn over the vocabulary, as describe's inputs (ClipText): each known attribute of a clip,
    a topic on about a quarter and a stressed word on about an eighth, and a transcript for the instruction."""
    from speechcraft.tasks.descriptions import ClipText
    from speechcraft.vocabulary import AGE_GROUPS, EMOTIONS, GENDERS, LEVELS, PACES, VOLUME

    rng = random.Random(seed)
    made = []
    for language in ("en", "zh"):
        for i in range(per_language):
            transcript, stressed = rng.choice(TRANSCRIPTS[language])
            labels = {"gender": rng.choice(GENDERS), "age": rng.choice(AGE_GROUPS), "pitch": rng.choice(LEVELS),
                      VOLUME: rng.choice(LEVELS), "speed": rng.choice(PACES), "emotion": rng.choice(EMOTIONS)}
            if rng.random() < 0.25:
                labels["topic"] = rng.choice(TOPICS[language])
            if rng.random() < 0.125:
                labels["emphasis"] = stressed
            made.append(ClipText(f"bench/{language}/{i:03d}", language, labels, transcript))
    return made


def in_half(clip, half: str) -> bool:
    index = int(clip.clip_id.rsplit("/", 1)[1])
    return half == "all" or (index % 2 == 0) == (half == "tune")


def run(prompt: str, todo: list, args, loaded=None) -> tuple[list[dict], dict]:
    """Every row write_texts stores for `todo` under this prompt, and the timings."""
    from speechcraft.models.registry import load_backend
    from speechcraft.tasks.descriptions import write_texts

    retries = args.retries if prompt != "paper" else args.paper_retries
    options = {"backend": "transformers", "model": args.model, "device": "cpu", "batch_size": args.batch_size,
               "prompt": prompt, "retries": retries}
    generator = load_backend("describe", options)
    started = time.perf_counter()
    if loaded is None:
        generator.load()
    else:                  # the same weights under another prompt: loaded once
        generator.network, generator.tokenizer, generator.device = loaded.network, loaded.tokenizer, loaded.device
    load_s = time.perf_counter() - started
    spent = {"generate_s": 0.0, "attempts": 0}
    generate = generator.generate

    def timed(requests, attempt=1):
        begun = time.perf_counter()
        try:
            return generate(requests, attempt)
        finally:
            spent["generate_s"] += time.perf_counter() - begun
            spent["attempts"] += len(requests)

    generator.generate = timed
    started = time.perf_counter()
    try:
        rows = write_texts(todo, options, f"bench-{prompt}").rows
    finally:
        generator.generate = generate
    return rows, {**spent, "load_s": load_s, "total_s": time.perf_counter() - started, "generator": generator}


def figures(rows: list[dict], clips_by_id: dict) -> dict:
    """Per language: the first attempt's raw rates, and what was published, by whom, at which attempt."""
    from speechcraft.models.text_checker import check

    out = {}
    for language in ("en", "zh"):
        mine = [r for r in rows if r["language"] == language]
        first = [r for r in mine if r["generator"] == "transformers" and r["attempt"] == 1]
        judged = []
        for r in first:
            clip = clips_by_id[r["clip_id"]]
            transcript = clip.transcript if r["kind"] == "instruction" else None
            verdict = check(r["text"] or "", clip.labels, language, transcript)  # the screened ones too
            judged.append((r, verdict))
        published = [r for r in mine if r["published"]]
        rejudged = [check(r["text"], clips_by_id[r["clip_id"]].labels, language,
                          clips_by_id[r["clip_id"]].transcript if r["kind"] == "instruction" else None).passed
                    for r in published]
        n, instructions = len(first), [v for r, v in judged if r["kind"] == "instruction"]
        out[language] = {
            "requests": n,
            "pass": sum(r["passed"] for r in first) / n,
            "screened": sum(r["omissions"] is None for r in first) / n,
            "screen_reasons": dict(Counter(r["reason"] for r in first if r["omissions"] is None)),
            "omission": sum(bool(v.omitted) for _, v in judged) / n,
            "distortion": sum(bool(v.distorted) for _, v in judged) / n,
            "transcript_problem": sum(bool(v.transcript_problem) for v in instructions) / max(1, len(instructions)),
            "invented": sum(bool(v.invented) for _, v in judged) / n,
            "published": len(published),
            "published_llm": sum(r["generator"] == "transformers" for r in published) / len(published),
            "published_by_attempt": dict(sorted(Counter(r["attempt"] for r in published
                                                       if r["generator"] == "transformers").items())),
            "fallback": sum(r["generator"] == "embedded" for r in published) / len(published),
            "published_failing_check": len(rejudged) - sum(rejudged),
            "examples": [r["text"] for r in first if r["passed"]][:2] + [r["text"] for r in first if not r["passed"]][:2],
        }
    return out


def report(prompt: str, half: str, result: dict, retries: int) -> None:
    print(f"\n== prompt {prompt!r}, {half} half: first attempt (raw), judged by models/text_checker.py ==")
    print(f"{'lang':<5}{'requests':>9}{'pass':>8}{'screened':>10}{'omission':>10}{'distortion':>11}"
          f"{'transcript':>11}{'invented':>10}   paper (LLaMA-2 ft): omission / distortion")
    for language, f in result.items():
        omission, distortion = PAPER[language]
        print(f"{language:<5}{f['requests']:>9}{f['pass']:>8.1%}{f['screened']:>10.1%}{f['omission']:>10.1%}"
              f"{f['distortion']:>11.1%}{f['transcript_problem']:>11.1%}{f['invented']:>10.1%}"
              f"   {omission:.2%} / {distortion:.2%}")
    print(f"-- after {retries} retries and the fallback --")
    for language, f in result.items():
        print(f"{language}: {f['published']} published; from the LLM {f['published_llm']:.1%} "
              f"(by attempt {f['published_by_attempt']}), from the embedded generator {f['fallback']:.1%}; "
              f"published texts failing the checker: {f['published_failing_check']}; "
              f"screened out: {f['screen_reasons']}")
        for text in f["examples"]:
            print(f"    {text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=50, help="clips per language (each: a description and an instruction)")
    parser.add_argument("--half", choices=("all", "tune", "holdout"), default="holdout")
    parser.add_argument("--prompts", default="paper,guided")
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--paper-retries", type=int, default=0)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    import torch

    from speechcraft.models.hf_audio import ModelLoadError

    torch.set_num_threads(args.threads)
    todo = [c for c in clips(args.clips) if in_half(c, args.half)]
    clips_by_id = {c.clip_id: c for c in todo}
    print(f"{len(todo)} clips ({args.half} half of {args.clips} a language), a description and an instruction "
          f"each; model {args.model}, {args.threads} thread(s), batches of {args.batch_size}")
    loaded, results = None, {}
    for prompt in args.prompts.split(","):
        try:
            rows, timing = run(prompt, todo, args, loaded)
        except (ModelLoadError, ImportError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        loaded = timing.pop("generator")
        retries = args.retries if prompt != "paper" else args.paper_retries
        results[prompt] = {"timing": timing}
        for half in (("tune", "holdout") if args.half == "all" else (args.half,)):
            mine = [r for r in rows if in_half(clips_by_id[r["clip_id"]], half)]
            result = figures(mine, clips_by_id)
            report(prompt, half, result, retries)
            results[prompt][half] = result
        published = sum(r["published"] for r in rows)
        print(f"-- speed, prompt {prompt!r}: load {timing['load_s']:.1f} s (once); {timing['attempts']} LLM attempts "
              f"in {timing['generate_s']:.0f} s = {timing['attempts'] / timing['generate_s']:.2f} texts/s; "
              f"{published} published in {timing['total_s']:.0f} s = {published / timing['total_s']:.2f} texts/s "
              "(with the retries and the checker)")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"args": vars(args), "results": results}, out, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
