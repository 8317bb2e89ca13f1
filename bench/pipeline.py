"""Can the tf.data input pipeline keep a training step fed?

It generates a folder of 1000 x 800 JPEG paintings and measures, side by side in one run:
- the samples per second the training pipeline delivers on its own (decode, pad and resize, five
  full-resolution crops; the first pass, before the cache helps);
- the same while training steps run in another thread, competing for the same CPU;
- training steps alone, on one batch kept in memory;
- model.fit fed by the pipeline.
The pipeline is not the bottleneck when it delivers more samples per second during training than the
training step consumes. On a GPU machine the training figures are the GPU's.

    python bench/pipeline.py [--paintings 48] [--image-size 224] [--batch-size 32] [--steps 3]
"""

import argparse
import os
import tempfile
import threading
import time

from timing import print_table, setup_environment

setup_environment()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from artnet.data import DecodeFailures, Painting, make_dataset, training_views  # noqa: E402
from artnet.model import apply_freeze_policy, build_model  # noqa: E402
from artnet.styles import MOVEMENTS  # noqa: E402

SAMPLES_PER_PAINTING = 6  # the whole painting and five crops


def write_paintings(folder, count):
    """`count` 1000 x 800 JPEGs of textured noise, about as costly to decode as a photographed painting."""
    generator = np.random.default_rng(0)
    paintings = []
    base = generator.integers(0, 256, (800 // 8, 1000 // 8, 3), dtype=np.uint8)
    for index in range(count):
        pixels = np.kron(np.roll(base, index * 7, axis=1), np.ones((8, 8, 1), np.uint8))
        pixels = (pixels + generator.integers(0, 40, pixels.shape, dtype=np.uint8)).astype(np.uint8)
        path = os.path.join(folder, f"painting_{index:03d}.jpg")
        Image.fromarray(pixels).save(path, quality=90)
        paintings.append(Painting(path, MOVEMENTS[index % len(MOVEMENTS)]))
    return paintings


def pipeline(paintings, image_size, batch_size):
    return make_dataset(paintings, MOVEMENTS, image_size, training_views, batch_size, DecodeFailures(), shuffle_seed=0)


def samples_per_second(dataset, stop=None):
    """Iterate `dataset` to its end, or until `stop` is set: samples per second."""
    start, samples = time.perf_counter(), 0
    for pixels, _ in dataset:
        samples += int(pixels.shape[0])
        if stop is not None and stop.is_set():
            break
    return samples / (time.perf_counter() - start)


def compiled_model(image_size):
    model = apply_freeze_policy(build_model(len(MOVEMENTS), image_size, backbone_weights=None), "seed")
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paintings", type=int, default=48, help="generated 1000 x 800 JPEGs")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps")
    options = parser.parse_args()

    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else f"CPU only, {os.cpu_count()} cores"
    print(f"Device: {device}; load average at start {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        paintings = write_paintings(folder, options.paintings)
        size, batch = options.image_size, options.batch_size

        # One batch first, so that neither measurement pays for tf.data's start-up.
        next(iter(pipeline(paintings, size, batch)))
        alone = samples_per_second(pipeline(paintings, size, batch))

        model = compiled_model(size)
        pixels, labels = next(iter(pipeline(paintings, size, batch)))
        model.train_on_batch(pixels, labels)  # traces the step
        start = time.perf_counter()
        for _ in range(options.steps):
            model.train_on_batch(pixels, labels)
        training_alone = options.steps * batch / (time.perf_counter() - start)

        # The pipeline, repeated, in a second thread for as long as the timed training steps keep the
        # device (and the CPU) busy.
        stop, during = threading.Event(), []
        repeated = pipeline(paintings, size, batch).repeat()
        reader = threading.Thread(target=lambda: during.append(samples_per_second(repeated, stop)))
        reader.start()
        for _ in range(options.steps):
            model.train_on_batch(pixels, labels)
        stop.set()
        reader.join()

        steps = max(1, min(options.steps, len(paintings) * SAMPLES_PER_PAINTING // batch))
        fed = pipeline(paintings, size, batch).take(steps + 1)
        iterator = iter(fed)
        model.train_on_batch(*next(iterator))
        start = time.perf_counter()
        for batch_pixels, batch_labels in iterator:
            model.train_on_batch(batch_pixels, batch_labels)
        fed_by_pipeline = steps * batch / (time.perf_counter() - start)

    rows = [
        ["pipeline alone (first pass, no cache)", f"{alone:.1f}", f"{alone / SAMPLES_PER_PAINTING:.1f}", "1.00x"],
        ["pipeline while training steps run", f"{during[0]:.1f}", f"{during[0] / SAMPLES_PER_PAINTING:.1f}",
         f"{during[0] / alone:.2f}x"],
        ["training steps alone (batch in memory)", f"{training_alone:.1f}", "", f"{training_alone / alone:.2f}x"],
        ["training fed by the pipeline", f"{fed_by_pipeline:.1f}", "", f"{fed_by_pipeline / alone:.2f}x"],
    ]
    print(f"\n{options.paintings} paintings of 1000 x 800, {size} x {size} samples, batch {batch}, freeze seed\n")
    print_table(["", "samples/s", "paintings/s", "vs pipeline alone"], rows)
    headroom = during[0] / training_alone
    verdict = "keeps the training step fed" if headroom >= 1 else "is the bottleneck"
    print(f"\nDuring training the pipeline delivers {headroom:.1f}x what a step consumes: it {verdict}.")


if __name__ == "__main__":
    main()
