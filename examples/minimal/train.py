#!/usr/bin/env python3
"""Minimal custom trainer: a real, tiny object detector in numpy, following the guide's pattern.

What it does, with the SDK doing every platform-facing step:

1. `TrainerSDK()` reads the job from the environment; `get_basic_config()` gives the epochs,
   batch size and learning rate (env vars, then CONFIG, then defaults).
2. `report_started('training', total_epochs=epochs)` before any work.
3. `download_dataset()` fetches the DICE dataset from S3; `convert_dataset(..., 'dice', 'yolo')`
   writes YOLO labels and the train/val lists.
4. Trains a linear model (softmax class + box regression, Adam) on 35 features per image (where
   the colourful pixels are, and their colour), one `report_progress()` per epoch with the real
   training loss and validation metrics.
5. Saves the best and the last weights (`numpy.savez`) under WORK_DIR, uploads them with
   `upload_checkpoint()`, reports the validation of the best epoch, and `report_completed()`.
6. Any exception: `report_failed()` with the traceback, exit code 1. `close()` in `finally`.

The platform starts it as `python train.py --log-level INFO`; `--log-level` sets the level of
Python logging in this process.

No torch, no PIL: images are decoded with zlib. Run it with `make demo`, or
`trainer-sdk dry-run examples/minimal/train.py --dataset examples/data`.
"""

import argparse
import logging
import os
import struct
import sys
import time
import traceback
import zlib
from pathlib import Path

import numpy as np
import yaml

from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK

GRID = 16  # the saturation map is averaged down to GRID x GRID cells
BETAS = (0.9, 0.999)  # Adam


def read_png(path):
    """Decode an 8-bit, non-interlaced grey/RGB/RGBA PNG into an (H, W, 3) float array in [0, 1]."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            channels = {0: 1, 2: 3, 6: 4}.get(colour, 0)
            if depth != 8 or channels == 0 or interlace:
                raise ValueError(f"{path}: only 8-bit grey/RGB/RGBA, non-interlaced PNGs are read")
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows = np.zeros((height, stride), dtype=np.int32)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int32)
        out = np.zeros(stride, dtype=np.int32)
        for x in range(stride):
            left = out[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:  # Paeth
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            out[x] = (line[x] + predictor) & 0xFF
        rows[y] = out
        previous = out
    image = rows.reshape(height, width, channels).astype(np.float64) / 255.0
    if channels == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def features(image):
    """35 numbers: where the colourful pixels are (column and row profiles), and their colour.

    Saturation (max - min channel) separates the coloured object from the grey background; its
    column and row profiles say where the box is, the saturation-weighted mean colour what it is.
    """
    saturation = image.max(axis=2) - image.min(axis=2)
    h, w = saturation.shape
    ys = np.linspace(0, h, GRID + 1).astype(int)
    xs = np.linspace(0, w, GRID + 1).astype(int)
    cells = np.array(
        [
            [saturation[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean() for j in range(GRID)]
            for i in range(GRID)
        ]
    )
    weights = saturation / (saturation.sum() + 1e-9)
    colour = (image * weights[:, :, None]).sum(axis=(0, 1))
    return np.concatenate([cells.mean(axis=0), cells.mean(axis=1), colour])


def label_path(image_path):
    """YOLO convention: .../images/<rel>.png -> .../labels/<rel>.txt."""
    parts = list(Path(image_path).parts)
    index = len(parts) - 1 - parts[::-1].index("images")
    parts[index] = "labels"
    return Path(*parts).with_suffix(".txt")


def features_of(image_path):
    """The feature vector of one image file."""
    return features(read_png(image_path))


def load_split(yolo_dir, data, split):
    """Features, class ids and boxes (cx, cy, w, h in [0, 1]) of one split of a YOLO dataset."""
    root = Path(data.get("path") or yolo_dir)
    if not root.is_absolute():
        root = yolo_dir / root
    entry = data[split]
    list_file = root / entry
    images = list_file.read_text().split() if list_file.is_file() else []
    features, classes, boxes = [], [], []
    for name in images:
        image_path = Path(name) if Path(name).is_absolute() else root / name
        rows = [r.split() for r in label_path(image_path).read_text().splitlines() if r.strip()]
        if not rows:
            continue
        features.append(features_of(image_path))
        classes.append(int(rows[0][0]))
        boxes.append([float(v) for v in rows[0][1:5]])
    if not features:
        raise ValueError(f"the {split} split of {yolo_dir} has no labelled image")
    return np.array(features), np.array(classes), np.array(boxes)


def iou(a, b):
    """IoU of boxes given as (cx, cy, w, h), row by row."""
    a0, a1 = a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2
    b0, b1 = b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2
    inter = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None).prod(axis=1)
    union = np.clip(a[:, 2:], 0, None).prod(axis=1) + b[:, 2:].prod(axis=1) - inter
    return inter / np.maximum(union, 1e-9)


class TinyDetector:
    """Softmax classification and linear box regression on image features, trained with Adam."""

    def __init__(self, n_features, n_classes, mean_box, seed=0):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(0, 0.01, (n_features + 1, n_classes + 4))
        self.w[-1, n_classes:] = mean_box  # the bias row starts at the average box
        self.m = np.zeros_like(self.w)
        self.v = np.zeros_like(self.w)
        self.t = 0
        self.n_classes = n_classes

    def forward(self, x):
        xb = np.hstack([x, np.ones((len(x), 1))])
        out = xb @ self.w
        logits = out[:, : self.n_classes]
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return xb, probs, out[:, self.n_classes :]

    def loss(self, x, y, boxes):
        """Cross-entropy plus squared box error (mean over images)."""
        _, probs, pred = self.forward(x)
        ce = -np.log(probs[np.arange(len(y)), y] + 1e-12).mean()
        return float(ce + ((pred - boxes) ** 2).sum(axis=1).mean())

    def step(self, x, y, boxes, lr):
        xb, probs, pred = self.forward(x)
        grad_logits = probs.copy()
        grad_logits[np.arange(len(y)), y] -= 1
        grad = xb.T @ (np.hstack([grad_logits, 2 * (pred - boxes)]) / len(x))
        self.t += 1
        self.m = BETAS[0] * self.m + (1 - BETAS[0]) * grad
        self.v = BETAS[1] * self.v + (1 - BETAS[1]) * grad**2
        m_hat = self.m / (1 - BETAS[0] ** self.t)
        v_hat = self.v / (1 - BETAS[1] ** self.t)
        self.w -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)

    def evaluate(self, x, y, boxes):
        _, probs, pred = self.forward(x)
        predicted = probs.argmax(axis=1)
        overlap = iou(pred, boxes)
        confusion = np.zeros((self.n_classes, self.n_classes), dtype=int)
        for t, p in zip(y, predicted, strict=True):
            confusion[t, p] += 1
        return {
            "val_loss": self.loss(x, y, boxes),
            "accuracy": float((predicted == y).mean()),
            "mean_iou": float(overlap.mean()),
            "hit_rate_iou50": float(((predicted == y) & (overlap >= 0.5)).mean()),
        }, confusion


def save_weights(path, model, mean, std):
    """Write the weights and the feature normalisation as a numpy archive (named .pt anyway)."""
    with open(path, "wb") as handle:
        np.savez(handle, w=model.w, mean=mean, std=std)


def parse_args(argv=None):
    """The platform starts `python train.py --log-level INFO`: accept it (and nothing else)."""
    parser = argparse.ArgumentParser(description="Minimal custom trainer (numpy detector).")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="Logging level of this process (the platform passes INFO).",
    )
    return parser.parse_args(argv)


def main():
    args = parse_args()
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    sdk = TrainerSDK()

    try:
        config = sdk.get_basic_config()
        epochs = config["epochs"]
        batch = config["batch"]
        lr = config["lr0"]

        sdk.report_started("training", total_epochs=epochs)

        tmp_dir = Path(os.getenv("TMP_DIR", "/tmp"))
        work_dir = Path(os.getenv("WORK_DIR", "/workspace"))
        dataset_dir = sdk.download_dataset(sdk.dataset_id, str(tmp_dir / "dataset"))
        converted = sdk.convert_dataset(dataset_dir, "dice", "yolo")
        yolo_dir = Path(converted.output_dir)
        data = yaml.safe_load((yolo_dir / "data.yaml").read_text())
        names = data["names"]
        class_names = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)

        x_train, y_train, b_train = load_split(yolo_dir, data, "train")
        x_val, y_val, b_val = load_split(yolo_dir, data, "val")
        mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-2
        x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
        print(f"training on {len(x_train)} images, validating on {len(x_val)}, {class_names}")

        model = TinyDetector(x_train.shape[1], len(class_names), b_train.mean(axis=0))
        rng = np.random.default_rng(42)
        checkpoints = work_dir / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        best = None
        for epoch in range(1, epochs + 1):
            started = time.monotonic()
            order = rng.permutation(len(x_train))
            for start in range(0, len(order), batch):
                chosen = order[start : start + batch]
                model.step(x_train[chosen], y_train[chosen], b_train[chosen], lr)
            train_loss = model.loss(x_train, y_train, b_train)
            metrics, confusion = model.evaluate(x_val, y_val, b_val)
            if best is None or metrics["val_loss"] < best[1]["val_loss"]:
                best = (epoch, metrics, confusion)
                save_weights(checkpoints / "best.pt", model, mean, std)

            sdk.report_progress(
                epoch=epoch,
                total_epochs=epochs,
                metrics={"loss": train_loss, "learning_rate": lr, **metrics},
                epoch_duration_seconds=time.monotonic() - started,
            )
            print(
                f"epoch {epoch}/{epochs}: loss {train_loss:.4f}, val loss "
                f"{metrics['val_loss']:.4f}, val accuracy {metrics['accuracy']:.3f}, "
                f"mean IoU {metrics['mean_iou']:.3f}"
            )

        save_weights(checkpoints / "last.pt", model, mean, std)
        best_uri = sdk.upload_checkpoint(str(checkpoints / "best.pt"), "best")
        last_uri = sdk.upload_checkpoint(str(checkpoints / "last.pt"), "last")

        best_epoch, best_metrics, best_confusion = best
        sdk.report_validation(
            epoch=best_epoch,
            task_type="detection",
            primary_metric=("mean_iou", best_metrics["mean_iou"]),
            all_metrics=best_metrics,
            class_names=class_names,
            confusion_matrix=best_confusion.tolist(),
            is_best=True,
        )
        sdk.report_completed(
            final_metrics={"loss": train_loss, **metrics},
            checkpoints={"best": best_uri, "last": last_uri},
            total_epochs=epochs,
            best_metrics=best_metrics,
            best_epoch=best_epoch,
        )
        return 0

    except Exception as e:
        sdk.report_failed(
            error_type=ErrorType.UNKNOWN_ERROR,
            message=str(e),
            traceback=traceback.format_exc(),
        )
        return 1

    finally:
        sdk.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CallbackDeliveryError:
        sys.exit(2)  # the backend could not be reached: exit code 2 by contract
