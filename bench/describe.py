"""How varied the embedded generator's texts are, and how fast it writes them.

    python bench/describe.py [--clips 1000]

For one fixed label set per language (every attribute known), 1,000 clips get a description and an
instruction each; printed: the share of distinct texts, beside the baseline of fixed templates (one text per
label set, as TextrolSpeech's 432 texts cover all its label combinations), texts per second, and the share
that passed the checker at the first attempt.
"""
from __future__ import annotations

import argparse
import time

LABELS = {
    "en": {"gender": "female", "age": "young_adult", "pitch": "high", "volume": "normal", "speed": "fast",
           "emotion": "happy", "topic": "science and technology", "emphasis": "story"},
    "zh": {"gender": "male", "age": "middle_aged", "pitch": "low", "volume": "high", "speed": "slow",
           "emotion": "sad", "topic": "科技", "emphasis": "男人"},
}
TRANSCRIPTS = {"en": "That was the best story I have heard all year.", "zh": "那个男人今天没有来上班"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=1000)
    args = parser.parse_args()
    from speechcraft.models.describer import EmbeddedDescriber

    describer = EmbeddedDescriber()
    print(f"{'language':<9}{'kind':<13}{'texts':>7}{'distinct':>10}{'templates':>11}{'texts/s':>10}{'1st try':>9}")
    for language, labels in LABELS.items():
        for kind, transcript in (("description", None), ("instruction", TRANSCRIPTS[language])):
            started = time.perf_counter()
            written = [describer.write(f"bench/{language}/{i}", labels, language, transcript)
                       for i in range(args.clips)]
            seconds = time.perf_counter() - started
            texts = [t for t, _ in written]
            first = sum(a == 1 for _, a in written) / len(written)
            print(f"{language:<9}{kind:<13}{len(texts):>7}{len(set(texts)) / len(texts):>10.1%}"
                  f"{1 / len(texts):>11.1%}{len(texts) / seconds:>10.0f}{first:>9.1%}")
    print("\nexamples:")
    for language, labels in LABELS.items():
        for i in range(3):
            print(" ", describer.write(f"example/{i}", labels, language)[0])
        print(" ", describer.write("example/i", labels, language, TRANSCRIPTS[language])[0])


if __name__ == "__main__":
    main()
