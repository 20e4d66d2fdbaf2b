"""Word clouds of descriptions: word frequencies of a sample of texts, drawn with `wordcloud`. Chinese is
segmented with jieba and drawn with a CJK font found through fontconfig (Debian: fonts-wqy-microhei)."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from functools import lru_cache

import numpy as np

ZH_STOP = set("的 了 在 是 和 与 地 得 着 一个 这 那 他 她 我 你 说 用 以 并 而 也 又 很 都 就 着 让 把 被 对 之 其".split())


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font file that covers Chinese, from fontconfig's list (fc-match would fall back to any font)."""
    if not shutil.which("fc-list"):
        return None
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    return files[0] if files else None


def frequencies(texts: list[str], language: str) -> Counter:
    counts: Counter = Counter()
    if language == "zh":
        import jieba

        for text in texts:
            counts.update(w for w in jieba.lcut(text) if len(w) > 1 and w not in ZH_STOP
                          and re.fullmatch(r"[\u4e00-\u9fff]+", w))
    else:
        from wordcloud import STOPWORDS

        for text in texts:
            counts.update(w for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if w not in STOPWORDS)
    return counts


def word_cloud(texts: list[str], language: str) -> tuple[np.ndarray | None, str]:
    """(image, caption), or (None, why there is none)."""
    if not texts:
        return None, "no descriptions in this language yet"
    try:
        from wordcloud import WordCloud
    except ImportError:
        return None, "word clouds need the wordcloud package: pip install 'speechcraft-lakehouse[dashboard]'"
    font = cjk_font() if language == "zh" else None
    if language == "zh" and font is None:
        return None, "no Chinese font found: install one (Debian: apt-get install fonts-wqy-microhei)"
    counts = frequencies(texts, language)
    if not counts:
        return None, "no words to draw"
    cloud = WordCloud(width=700, height=320, background_color="white", font_path=font, random_state=7,
                      max_words=120, colormap="viridis").generate_from_frequencies(counts)
    return cloud.to_array(), f"{len(texts):,} descriptions sampled, {len(counts):,} distinct words"
