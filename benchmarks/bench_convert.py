"""Benchmark: DICE -> YOLO conversion against the floor and against globox.

    python benchmarks/bench_convert.py            # 50,000 images, ~500,000 boxes, median of 5
    python benchmarks/bench_convert.py --small    # 2,000 images, median of 3 (a quick check)
    python benchmarks/bench_convert.py --sizes 10k,100k,1m   # growth: one run per size
    python benchmarks/bench_convert.py --max      # 5,000,000 images, the converter alone

`--sizes` prints, per size, the converter's and the floor's time and peak RSS side by side with
their ratios, so that growth shows (the converter's memory must stay flat, the floor's grows with
the file). The floor is left out where it would need more than half the memory available (it
holds the whole parsed file). `--max` converts 5 million images (one run) and checks the peak
RSS against 2 GB; the floor cannot run there at all.

One nested detection dataset (images in nested folders, image files present, some boxes past the
image edge, some crowd and background objects) is generated once, with a flat COCO copy of the
same annotations for globox. Then, in turns, each contender runs in its own child process
(`--child NAME`), which times its own work after its imports; the parent reads the child's peak
RSS from `wait4`. Contenders:

- convert: `trainer_sdk.convert.convert_dataset(..., "yolo", task_type="detection")`, everything
  included (schema validation, checks, splits, data.yaml, staged output).
- convert-helper (only with `--only convert-helper`): the same with the label files written by a
  helper process as they are made (`writer_process.USE_PROCESS`); its peak memory is its own
  plus the helper's.
- coco, coco-in-memory (only with `--only`): the same dataset to COCO
  (`convert_dataset(..., "coco")`), streamed as it is by default, and converted all at once in
  memory as before (`conversion_run.STREAM_EVERY_TARGET = False`): their peak RSS shows what
  streaming saves.
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
EXTRA_CONTENDERS = ("convert-helper", "coco", "coco-in-memory")
ROW = b"0 0.500000 0.500000 0.100000 0.100000\n"
HELPER_PEAK_KB: list[int] = []


def generate(
    root: Path, images: int, boxes_per_image: int, seed: int = 0, coco: bool = True
) -> dict[str, Any]:
    """Write the dataset (nested DICE file, optionally a flat COCO copy, image files), streaming:
    memory stays flat whatever the size. The image files are hard links to one tiny JPEG (one
    inode per 60,000 images), so millions of them cost no disk."""
    rnd = random.Random(seed)
    classes = [{"id": 0, "name": "__background__"}]
    classes += [
        {"id": 2 * i + 1, "name": f"class_{i}", "color": "#FF0000", "supercategory": "thing"}
        for i in range(20)
    ]
    root.mkdir(parents=True)
    (root / "images").mkdir()
    jpeg = root / "image.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xd9")
    dice = (root / "annotations_detection.json").open("w")
    dice.write(
        '{"format_version": "1.0", "dataset_id": "bench", "task_type": "detection", '
        f'"classes": {json.dumps(classes)}, "images": ['
    )
    flat_images = (root / "coco.json").open("w") if coco else None
    flat_annotations = (root / "coco-annotations.part").open("w") if coco else None
    if flat_images is not None:
        flat_images.write('{"images": [')
    ann_id = 0
    folders: set[str] = set()
    for i in range(images):
        width, height = rnd.choice(((640, 480), (1280, 720), (800, 800)))
        file_name = f"site_{i % 10}/cam_{i % 7}/{i // 70:05d}.jpg"
        folder = file_name.rpartition("/")[0]
        if folder not in folders:
            folders.add(folder)
            (root / "images" / folder).mkdir(parents=True)
        if i % 60_000 == 0 and i:  # ext4 allows 65,000 links to one file
            jpeg = root / f"image-{i}.jpg"
            jpeg.write_bytes(b"\xff\xd8\xff\xd9")
        os.link(jpeg, root / "images" / file_name)
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
        dice.write(("" if i == 0 else ", ") + json.dumps({**image, "annotations": anns}))
        if flat_images is not None and flat_annotations is not None:
            flat_images.write(("" if i == 0 else ", ") + json.dumps(image))
            for ann in anns:
                flat = {k: v for k, v in ann.items() if k not in ("class_id", "class_name")}
                separator = ", " if flat_annotations.tell() else ""
                flat_annotations.write(
                    separator + json.dumps({**flat, "category_id": ann["class_id"]})
                )
    dice.write("]}")
    dice.close()
    if flat_images is not None and flat_annotations is not None:
        flat_annotations.close()
        flat_images.write('], "annotations": [')
        with (root / "coco-annotations.part").open() as part:
            shutil.copyfileobj(part, flat_images)
        (root / "coco-annotations.part").unlink()
        flat_images.write(f'], "categories": {json.dumps(classes)}}}')
        flat_images.close()
    return {
        "images": images,
        "boxes": ann_id,
        "folders": sorted(folders),
        "megabytes": (root / "annotations_detection.json").stat().st_size / 1e6,
    }


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
    if name.startswith("coco"):
        from trainer_sdk.convert import conversion_run, convert_dataset

        conversion_run.STREAM_EVERY_TARGET = name == "coco"
        start = time.perf_counter()
        convert_dataset(dataset, "dice", "coco", task_type="detection", output_dir=out)
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


MAX_IMAGES = 5_000_000
MAX_RSS_MB = 2048


def parse_size(text: str) -> int:
    """`10k` -> 10000, `1m` -> 1000000, `2500` -> 2500."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def available_mb() -> float:
    """MemAvailable of this machine, in MB."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def growth(sizes: list[int], boxes_per_image: int, workdir: str | None, floor: bool) -> int:
    """One run of the converter (and the floor) per size; a table of time and peak RSS."""
    work = Path(tempfile.mkdtemp(prefix="bench-convert-", dir=workdir))
    rows: list[str] = []
    failed = False
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    try:
        for images in sizes:
            dataset = work / f"dataset-{images}"
            started = time.perf_counter()
            facts = json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--generate",
                        str(dataset),
                        "--images",
                        str(images),
                        "--boxes-per-image",
                        str(boxes_per_image),
                        "--no-coco",
                    ],
                    check=True,
                    stdout=subprocess.PIPE,
                ).stdout
            )
            print(
                f"{images:,} images, {facts['boxes']:,} boxes, {facts['megabytes']:,.0f} MB of "
                f"JSON (generated in {time.perf_counter() - started:.0f} s)",
                flush=True,
            )
            os.sync()
            c_s, c_mb = measure("convert", dataset, work / f"out-convert-{images}")
            print(f"  convert {c_s:8.2f} s {c_mb:7.0f} MB", flush=True)
            # The floor holds the parsed file: about 8x the file in memory.
            floor_mb = facts["megabytes"] * 8
            if floor and floor_mb < available_mb() / 2:
                os.sync()
                f_s, f_mb = measure("floor", dataset, work / f"out-floor-{images}")
                print(f"  floor   {f_s:8.2f} s {f_mb:7.0f} MB", flush=True)
                floor_text = f"{f_s:8.2f} s {f_mb:7.0f} MB  {c_s / f_s:5.2f}x {c_mb / f_mb:5.2f}x"
            else:
                floor_text = f"  (not run: would need ~{floor_mb / 1024:.0f} GB)"
            if images >= MAX_IMAGES and c_mb >= MAX_RSS_MB:
                failed = True
            rows.append(
                f"{images:>11,} {facts['boxes']:>12,} {c_s:8.2f} s {c_mb:7.0f} MB  {floor_text}"
            )
        print(
            f"\n{'images':>11} {'boxes':>12} {'convert':>10} {'peak':>10}  {'floor':>10} "
            f"{'peak':>10}  {'time':>6} {'memory':>6}"
        )
        for row in rows:
            print(row)
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if MAX_IMAGES in sizes:
            verdict = "MISSES" if failed else "meets"
            print(f"peak RSS at {MAX_IMAGES:,} images {verdict} the limit of {MAX_RSS_MB} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


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
    parser.add_argument("--sizes", help="image counts such as 10k,100k,1m: one run at each")
    parser.add_argument("--max", action="store_true", help="5,000,000 images, converter only")
    everyone = CONTENDERS + EXTRA_CONTENDERS
    parser.add_argument("--only", choices=everyone, action="append", help="run only these")
    parser.add_argument("--child", choices=everyone, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-coco", action="store_true", help=argparse.SUPPRESS)
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
        facts = generate(args.generate, images, args.boxes_per_image, coco=not args.no_coco)
        print(json.dumps(facts))
        return 0
    if args.max or args.sizes:
        sizes = [MAX_IMAGES] if args.max else [parse_size(t) for t in args.sizes.split(",")]
        return growth(sizes, args.boxes_per_image, args.workdir, floor=not args.max)

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
