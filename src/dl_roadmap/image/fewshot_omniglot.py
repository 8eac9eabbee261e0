"""Omniglot (Lake, Salakhutdinov and Tenenbaum, Science 2015) for few-shot learning.

The files are the upstream ones, unchanged (github.com/brendenlake/omniglot, ``python/``,
MIT licence), shipped in ``image/omniglot/`` and checked against its
``SHA256SUMS`` on every load:

- ``images_background_small1.zip`` / ``small2.zip``: 5 alphabets each, every character
  drawn once by each of 20 people, 105x105 binary PNGs (white background, black ink).
- ``all_runs.zip``: the 20 runs of 20-way one-shot classification from the evaluation
  alphabets: ``runXX/training/classYY.png`` (one example of each of 20 characters),
  ``runXX/test/itemYY.png`` (20 new drawings) and ``runXX/class_labels.txt``, one line per
  test item: ``runXX/test/itemYY.png runXX/training/classZZ.png`` (its true class).

Few-shot images are the ink (1 = stroke) box-downsampled to 28x28, as in Vinyals et al.
2016 and Snell et al. 2017; the one-shot runs also keep the full-size ink for the modified
Hausdorff distance.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from dl_roadmap.image.fewshot_episodes import with_rotations

EMBEDDED = Path(__file__).resolve().parent / "omniglot"
BACKGROUND_SETS = ("images_background_small1", "images_background_small2")
RUNS = "all_runs"
FULL_SIZE = 105


def expected_sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def checked_zip(folder: Path, name: str) -> Path:
    """``folder/name.zip`` after its SHA-256 matched ``folder/SHA256SUMS``; else an error naming the file."""
    path = folder / f"{name}.zip"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing Omniglot file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected_sums(folder).get(path.name):
        raise ValueError(f"{path}: SHA-256 {digest} differs from {folder / 'SHA256SUMS'}; copy the upstream file again")
    return path


def ink(png: bytes, where: str) -> np.ndarray:
    """The ink of one 105x105 binary Omniglot PNG as a bool array (True = stroke)."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(png))
        pixels = np.asarray(image.convert("L")) < 128   # black strokes on white
    except Exception as error:  # noqa: BLE001 - PIL raises several kinds for a corrupt image
        raise ValueError(f"{where}: not a readable PNG ({error})") from error
    if pixels.shape != (FULL_SIZE, FULL_SIZE):
        raise ValueError(f"{where}: image is {pixels.shape}, expected {(FULL_SIZE, FULL_SIZE)}")
    return pixels


def downsample(strokes: np.ndarray, size: int = 28) -> np.ndarray:
    """Ink (.., 105, 105) bool -> (.., size, size) uint8 in 0..255 (area-averaged, PIL's BOX filter)."""
    from PIL import Image

    flat = strokes.reshape(-1, FULL_SIZE, FULL_SIZE)
    out = np.stack([np.asarray(Image.fromarray(s.astype(np.uint8) * 255).resize((size, size), Image.BOX))
                    for s in flat])
    return out.reshape(*strokes.shape[:-2], size, size)


def read_background(name: str, folder: Path = EMBEDDED, size: int = 28,
                    alphabets: list[str] | None = None, max_characters: int | None = None) -> dict[str, Any]:
    """One background set as ``images`` (C, 20, size, size) uint8 (character x drawer),
    ``alphabet`` (C,) and ``character`` (C,) names; ``alphabets`` (those of the file among
    them) / ``max_characters`` (per alphabet) keep a subset."""
    path = checked_zip(folder, name)
    groups: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
    with zipfile.ZipFile(path) as archive:
        for entry in sorted(archive.namelist()):
            parts = entry.split("/")
            if not entry.endswith(".png") or len(parts) != 4:
                continue
            if alphabets is not None and parts[1] not in alphabets:
                continue
            groups.setdefault((parts[1], parts[2]), []).append((entry, archive.read(entry)))
    kept, count = [], {}
    for (alphabet, character), files in sorted(groups.items()):
        if max_characters is not None and count.get(alphabet, 0) >= max_characters:
            continue
        if len(files) != 20:
            raise ValueError(f"{path}: {alphabet}/{character} has {len(files)} drawings, expected 20")
        count[alphabet] = count.get(alphabet, 0) + 1
        kept.append((alphabet, character, np.stack([ink(png, f"{path}:{entry}") for entry, png in files])))
    if not kept:
        raise ValueError(f"{path}: no characters read")
    return {"images": downsample(np.stack([k[2] for k in kept]), size),
            "alphabet": np.array([k[0] for k in kept]), "character": np.array([k[1] for k in kept])}


def read_runs(folder: Path = EMBEDDED, size: int = 28, runs: int = 20) -> list[dict[str, Any]]:
    """Lake et al.'s one-shot runs: per run the 20 ``train`` and 20 ``test`` full-size inks
    (bool, 105x105) and their ``*_small`` (size x size uint8) versions, and ``answer``: for each
    test item, the index of its class among the training images (from ``class_labels.txt``)."""
    path = checked_zip(folder, RUNS)
    out = []
    with zipfile.ZipFile(path) as archive:
        for r in range(1, runs + 1):
            run = f"run{r:02d}"
            train = [f"{run}/training/class{i:02d}.png" for i in range(1, 21)]
            test = [f"{run}/test/item{i:02d}.png" for i in range(1, 21)]
            labels = f"{run}/class_labels.txt"
            try:
                pairs = dict(line.split() for line in archive.read(labels).decode().splitlines() if line.strip())
            except (KeyError, ValueError) as error:
                raise ValueError(f"{path}:{labels}: unreadable ({error})") from error
            if sorted(pairs) != test or not set(pairs.values()) <= set(train):
                raise ValueError(f"{path}:{labels}: expected one 'test item -> training class' line per test item")
            inks = {split: np.stack([ink(archive.read(f), f"{path}:{f}") for f in files])
                    for split, files in (("train", train), ("test", test))}
            out.append({"run": run, **inks, "train_small": downsample(inks["train"], size),
                        "test_small": downsample(inks["test"], size),
                        "answer": np.array([train.index(pairs[t]) for t in test])})
    return out


def omniglot_splits(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training set (``params["train_set"]`` with rotations as new classes), the test set
    (the other background set's alphabets that training never saw, unrotated) and a summary.
    ``params``: train_set, test_set, rotations, size, alphabets (null = all), max_characters."""
    subset = {"alphabets": params["alphabets"], "max_characters": params["max_characters"]}
    train = read_background(params["train_set"], size=params["size"], **subset)
    test = read_background(params["test_set"], size=params["size"], **subset)
    missing = set(params["alphabets"] or []) - set(train["alphabet"].tolist()) - set(test["alphabet"].tolist())
    if missing:
        raise ValueError(f"data.alphabets: {sorted(missing)} in neither background set")
    # small1 and small2 both hold Greek and Latin (the same files): those alphabets are seen
    # in training, so they leave the test set.
    shared = sorted(set(train["alphabet"].tolist()) & set(test["alphabet"].tolist()))
    unseen = ~np.isin(test["alphabet"], shared)
    test = {key: value[unseen] for key, value in test.items()}
    if len(test["images"]) < 2:
        raise ValueError(f"data: only {len(test['images'])} test characters from alphabets unseen in training")
    data = {"train": with_rotations(train["images"], params["rotations"]), "test": test["images"]}
    summary = {"train_set": params["train_set"], "test_set": params["test_set"],
               "train_alphabets": sorted(set(train["alphabet"].tolist())),
               "test_alphabets": sorted(set(test["alphabet"].tolist())),
               "train_characters": int(len(train["images"])), "train_classes": int(len(data["train"])),
               "alphabets_dropped_from_test": shared, "test_characters": int(len(test["images"])),
               "drawings_per_character": int(test["images"].shape[1]),
               "rotations": params["rotations"], "image_size": params["size"]}
    return data, summary


# ---------------------------------------------------------------------------------------
# Modified Hausdorff distance (Dubuisson & Jain 1994), on the ink's pixel coordinates:
#
#   d(a, B) = min_{b in B} ||a - b||,    d(A, B) = 1/|A| sum_{a in A} d(a, B)
#   MHD(A, B) = max(d(A, B), d(B, A))
#
# Lake's demo centres each point set on its mean (removing translation) before comparing.
# ---------------------------------------------------------------------------------------

def ink_points(strokes: np.ndarray) -> np.ndarray:
    """(rows, cols) of the ink pixels, centred on their mean, as float (P, 2)."""
    points = np.argwhere(strokes).astype(np.float64)
    return points - points.mean(axis=0)


def modified_hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    """MHD between two point sets (P, 2) and (Q, 2)."""
    from scipy.spatial.distance import cdist

    d = cdist(a, b)
    return float(max(d.min(axis=1).mean(), d.min(axis=0).mean()))


def mhd_run_errors(runs: list[dict[str, Any]]) -> np.ndarray:
    """Error rate of each run: every test item takes the class of the training image at the
    smallest modified Hausdorff distance."""
    errors = []
    for run in runs:
        train = [ink_points(s) for s in run["train"]]
        wrong = 0
        for item, answer in zip(run["test"], run["answer"]):
            points = ink_points(item)
            guess = int(np.argmin([modified_hausdorff(points, t) for t in train]))
            wrong += guess != int(answer)
        errors.append(wrong / len(run["test"]))
    return np.array(errors)
