"""A stand-in for Ultralytics, for running examples/ultralytics/train.py without torch.

It has the surface the example uses, with Ultralytics 8.3's names: `YOLO(weights, task)`,
`add_callback(event, fn)`, `train(data=..., epochs=..., project=..., name=..., **overrides)`,
`model.names`, and a trainer with `epoch`, `tloss`, `lr`, `metrics`, `label_loss_items`, `best`,
`last`, `save_dir`. Training is fake (metrics improve a little each epoch); the files it writes
(weights, a plot) are real, so the SDK uploads real objects.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

LOSS_NAMES = ("box_loss", "cls_loss", "dfl_loss")


class _Trainer:
    def __init__(self, save_dir: Path) -> None:
        self.save_dir = save_dir
        self.best = save_dir / "weights" / "best.pt"
        self.last = save_dir / "weights" / "last.pt"
        self.epoch = 0
        self.tloss: list[float] = [1.0, 1.0, 1.0]
        self.lr = {"lr/pg0": 0.01, "lr/pg1": 0.01}
        self.metrics: dict[str, float] = {}

    def label_loss_items(self, loss_items: list[float], prefix: str = "train") -> dict[str, float]:
        return {
            f"{prefix}/{name}": value for name, value in zip(LOSS_NAMES, loss_items, strict=True)
        }


class YOLO:
    """The model object of the example."""

    def __init__(self, model: str, task: str | None = None) -> None:
        self.model = model
        self.task = task
        self.names: dict[int, str] = {}
        self.trainer: _Trainer | None = None
        self._callbacks: dict[str, list[Callable[[Any], None]]] = {}

    def add_callback(self, event: str, function: Callable[[Any], None]) -> None:
        self._callbacks.setdefault(event, []).append(function)

    def train(self, *, data: str, epochs: int, project: str, name: str, **overrides: Any) -> None:
        spec = yaml.safe_load(Path(data).read_text())
        names = spec["names"]
        self.names = dict(enumerate(names)) if isinstance(names, list) else dict(names)
        trainer = _Trainer(Path(project) / name)
        trainer.best.parent.mkdir(parents=True, exist_ok=True)
        self.trainer = trainer
        for epoch in range(epochs):
            trainer.epoch = epoch
            trainer.tloss = [1.0 / (epoch + 1), 0.5 / (epoch + 1), 0.8 / (epoch + 1)]
            trainer.metrics = {
                "metrics/precision(B)": 0.5 + 0.1 * epoch,
                "metrics/recall(B)": 0.4 + 0.1 * epoch,
                "metrics/mAP50(B)": 0.3 + 0.1 * epoch,
                "metrics/mAP50-95(B)": 0.2 + 0.1 * epoch,
                "val/box_loss": 1.1 / (epoch + 1),
            }
            trainer.last.write_bytes(b"weights of epoch %d" % epoch)
            trainer.best.write_bytes(b"weights of epoch %d" % epoch)
            for function in self._callbacks.get("on_fit_epoch_end", []):
                function(trainer)
        (trainer.save_dir / "confusion_matrix.png").write_bytes(b"\x89PNG\r\n\x1a\n")
