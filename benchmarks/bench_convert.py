"""Benchmark: DICE -> YOLO conversion against the floor and against globox.

    python benchmarks/bench_convert.py            # 50,000 images, ~500,000 boxes, median of 5
    python benchmarks/bench_convert.py --small    # 2,000 images, median of 3 (a quick check)

One nested detection dataset (images in nested folders, image files present, some boxes past the
image edge, some crowd and background objects) is generated once, with a flat COCO copy of the
same annotations for globox. Then, in turns, each contender runs in its own child process
(`--child NAME`), which times its own work after its imports; the parent reads the child's peak
RSS from `wait4`. Contenders:

- convert: `trainer_sdk.convert.convert_dataset(..., "yolo", task_type="detection")`, everything
  included (schema validation, checks, splits, data.yaml, staged output).
- convert-helper (only with `--only convert-helper`): the same with the label files written by a
  helper process (`writer_process.USE_PROCESS`); its peak memory is its own plus the helper's.
- floor: parse the same JSON (`json.loads`, garbage collector as it comes) and create one small
  file per image with the same number of rows, in one thread, into one folder, no computation.
- globox: `AnnotationSet.from_coco(flat file)` then `save_yolo_v5` (its label folders made
  beforehand, as it needs them, outside its timing).

Every run writes into a fresh folder and nothing is deleted until all runs are over: creating
files right after deleting tens of thousands is 5-15x slower on this disk (DEPENDENCY_NOTES), so
do not start it within a few minutes of a mass delete (its own cleanup included). Each run starts
after an `os.sync()`, and one untimed warm-up round (`--warmup`) goes first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CONTENDERS = ("convert", "floor", "globox")
EXTRA_CONTENDERS = ("convert-helper",)
ROW = b"0 0.500000 0.500000 0.100000 0.100000\n"
HELPER_PEAK_KB: list[int] = []


def generate(root: Path, images: int, boxes_per_image: int, seed: int = 0) -> dict[str, Any]:
    """Write the dataset (nested DICE file, flat COCO copy, empty image files)."""
    rnd = random.Random(seed)
    classes = [{"id": 0, "name": "__background__"}]
    classes += [
        {"id": 2 * i + 1, "name": f"class_{i}", "color": "#FF0000", "supercategory": "thing"}
        for i in range(20)
    ]
    nested: list[dict[str, Any]] = []
    flat_images: list[dict[str, Any]] = []
    flat_annotations: list[dict[str, Any]] = []
    ann_id = 0
    folders: set[str] = set()
    for i in range(images):
        width, height = rnd.choice(((640, 480), (1280, 720), (800, 800)))
        file_name = f"site_{i % 10}/cam_{i % 7}/{i // 70:05d}.jpg"
        folders.add(file_name.rpartition("/")[0])
        anns = []
        for _ in range(rnd.randint(0, 2 * boxes_per_image)):
            ann_id += 1
            cls = classes[rnd.randint(0, 20) if rnd.random() < 0.01 else rnd.randint(1, 20)]
            x = round(rnd.uniform(-20, width - 1), 2)
            y = round(rnd.uniform(-20, height - 1), 2)
            w = round(rnd.uniform(1, 200), 2)
            h = round(rnd.uniform(1, 200), 2)
            anns.append(
                {
                    "id": ann_id,
                    "image_id": i,
                    "class_id": cls["id"],
                    "class_name": cls["name"],
                    "bbox": [x, y, w, h],
                    "bbox_format": "xywh",
                    "area": round(w * h, 2),
                    "iscrowd": 1 if rnd.random() < 0.005 else 0,
                }
            )
        image = {"id": i, "file_name": file_name, "width": width, "height": height, "depth": 3}
        nested.append({**image, "annotations": anns})
        flat_images.append(image)
        for ann in anns:
            flat = {k: v for k, v in ann.items() if k not in ("class_id", "class_name")}
            flat_annotations.append({**flat, "category_id": ann["class_id"]})
    dice = {
        "format_version": "1.0",
        "dataset_id": "bench",
        "task_type": "detection",
        "classes": classes,
        "images": nested,
    }
    coco = {"images": flat_images, "annotations": flat_annotations, "categories": classes}
    root.mkdir(parents=True)
    (root / "annotations_detection.json").write_text(json.dumps(dice))
    (root / "coco.json").write_text(json.dumps(coco))
    for folder in sorted(folders):
        (root / "images" / folder).mkdir(parents=True)
    for image in flat_images:
        (root / "images" / image["file_name"]).write_bytes(b"\xff\xd8\xff\xd9")
    return {"images": images, "boxes": ann_id, "folders": sorted(folders)}


def child(name: str, dataset: Path, out: Path) -> float:
    """Run one contender; returns the seconds its work took."""
    if name.startswith("convert"):
        from trainer_sdk.convert import convert_dataset, writer_process

        # convert-helper: the label files written by a helper process (off by default).
        writer_process.USE_PROCESS = name == "convert-helper"
        close = writer_process.FileSink.close

        def close_and_note_peak(sink: writer_process.FileSink) -> None:
            close(sink)
            if sink.helper_peak_kb is not None:
                HELPER_PEAK_KB.append(sink.helper_peak_kb)

        writer_process.FileSink.close = close_and_note_peak  # type: ignore[method-assign]
        start = time.perf_counter()
        convert_dataset(dataset, "dice", "yolo", task_type="detection", output_dir=out)
        return time.perf_counter() - start
    if name == "floor":
        out.mkdir()
        start = time.perf_counter()
        with open(dataset / "annotations_detection.json", "rb") as handle:
            document = json.loads(handle.read())
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        for i, image in enumerate(document["images"]):
            fd = os.open(f"{out}/{i}.txt", flags, 0o644)
            os.write(fd, ROW * len(image["annotations"]))
            os.close(fd)
        return time.perf_counter() - start
    if name == "globox":
        from globox import AnnotationSet

        coco = json.loads((dataset / "coco.json").read_text())
        # globox has no notion of a background class: it gets a row like any other (id -1).
        names = [c["name"] for c in coco["categories"] if c["name"] != "__background__"]
        label_to_id: dict[str, int] = {"__background__": -1, **{n: i for i, n in enumerate(names)}}
        for folder in {img["file_name"].rpartition("/")[0] for img in coco["images"]}:
            (out / folder).mkdir(parents=True, exist_ok=True)
        del coco
        start = time.perf_counter()
        annotations = AnnotationSet.from_coco(dataset / "coco.json")
        annotations.save_yolo_v5(out, label_to_id=label_to_id)
        return time.perf_counter() - start
    raise SystemExit(f"unknown contender {name}")


def measure(name: str, dataset: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one contender in a fresh child process (plus the peak of
    the helper process it started, if any: both are alive at once)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", name, "--dataset", str(dataset), "--out", str(out)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {process.returncode}")
    result = json.loads(output)
    return float(result["seconds"]), usage.ru_maxrss / 1024 + float(result["helper_mb"])


def main() -> int:
    """Generate, run every contender in turns, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="2,000 images, 3 runs each")
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--boxes-per-image", type=int, default=10)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed rounds first (page cache, disk state)"
    )
    parser.add_argument("--workdir", default=None, help="where to generate (default: a temp dir)")
    everyone = CONTENDERS + EXTRA_CONTENDERS
    parser.add_argument("--only", choices=everyone, action="append", help="run only these")
    parser.add_argument("--child", choices=everyone, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seconds = child(args.child, args.dataset, args.out)
        # Peak memory of the converter's helper process, if any: it runs alongside, so the
        # parent adds it to this process's peak. (Its ru_maxrss would not do: Linux carries the
        # parent's peak into a child across fork and exec; the helper reports its VmHWM.)
        helper = max(HELPER_PEAK_KB, default=0) / 1024
        print(json.dumps({"seconds": seconds, "helper_mb": helper}))
        return 0
    images = args.images or (2_000 if args.small else 50_000)
    if args.generate:
        print(json.dumps(generate(args.generate, images, args.boxes_per_image)))
        return 0

    runs = args.runs or (3 if args.small else 5)
    contenders = args.only or list(CONTENDERS)
    work = Path(tempfile.mkdtemp(prefix="bench-convert-", dir=args.workdir))
    try:
        started = time.perf_counter()
        # In a child process: Linux carries a process's peak RSS across fork and exec, so a
        # parent that had held the generated dataset would lend its peak to every contender.
        facts = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate",
                    str(work / "dataset"),
                    "--images",
                    str(images),
                    "--boxes-per-image",
                    str(args.boxes_per_image),
                ],
                check=True,
                stdout=subprocess.PIPE,
            ).stdout
        )
        print(
            f"dataset: {facts['images']:,} images, {facts['boxes']:,} boxes, "
            f"{len(facts['folders'])} folders (generated in {time.perf_counter() - started:.1f} s)"
        )
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for run in range(-args.warmup, runs):
            for name in contenders:
                # Nobody pays for the write-back of what the one before wrote.
                os.sync()
                out = work / f"out-{name}-{run}"
                seconds, peak = measure(name, work / "dataset", out)
                label = f"run {run + 1}/{runs}" if run >= 0 else "warm-up"
                print(f"  {label:9s} {name:8s} {seconds:6.2f} s {peak:7.0f} MB")
                if run >= 0:
                    results[name].append((seconds, peak))
        print(f"\nmedian of {runs} runs, {facts['images']:,} images / {facts['boxes']:,} boxes:")
        medians = {
            name: (
                statistics.median(s for s, _ in values),
                statistics.median(m for _, m in values),
            )
            for name, values in results.items()
        }
        for name, (seconds, peak) in medians.items():
            print(f"  {name:8s} {seconds:6.2f} s  peak RSS {peak:6.0f} MB")
        if "convert" in medians and "floor" in medians:
            c, f = medians["convert"], medians["floor"]
            print(
                f"  convert / floor : time {c[0] / f[0]:.2f}x (target <= 1.0x), "
                f"memory {c[1] / f[1]:.2f}x (target <= 1.5x)"
            )
        if "convert" in medians and "globox" in medians:
            g = medians["globox"][0] / medians["convert"][0]
            print(f"  globox / convert: {g:.1f}x faster (target >= 5x)")
    finally:
        # Deleted only now: creating files right after a mass delete is slow on this disk.
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
