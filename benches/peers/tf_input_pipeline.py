"""TF's tf.data doing what benches/streaming.rs times slim doing: TFRecord shards of JPEGs read 4 files at a time
through a shuffle buffer of 320, each image decoded and given TF-Slim's inception_preprocessing for training
(fast mode) to 224x224, batches of 32, on --threads threads. Prints one JSON line with images/s.

    /tmp/venv-tf/bin/python benches/peers/tf_input_pipeline.py --dir target/bench/streaming-2000 --threads 2

(The venv comes from shared/bench/setup-peers.sh tf.)
"""
import argparse
import glob
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402


def distort_color(image):
    """TF-Slim's distort_color(fast_mode=True): brightness and saturation in a random order, clipped."""
    def brightness_first():
        return tf.image.random_saturation(tf.image.random_brightness(image, 32.0 / 255.0), 0.5, 1.5)

    def saturation_first():
        return tf.image.random_brightness(tf.image.random_saturation(image, 0.5, 1.5), 32.0 / 255.0)

    order = tf.random.uniform([], maxval=2, dtype=tf.int32)
    return tf.clip_by_value(tf.cond(order == 0, brightness_first, saturation_first), 0.0, 1.0)


def preprocess_for_train(image, size):
    """TF-Slim's inception_preprocessing.preprocess_for_train(fast_mode=True)."""
    image = tf.image.convert_image_dtype(image, tf.float32)
    begin, box_size, _ = tf.image.sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), min_object_covered=0.1,
        aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0), max_attempts=100,
        use_image_if_no_bounding_boxes=True)
    image = tf.slice(image, begin, box_size)
    image = tf.image.resize(image, [size, size], method="bilinear")
    image = tf.image.random_flip_left_right(image)
    image = distort_color(image)
    return (image - 0.5) * 2.0


def parse(record, size):
    features = tf.io.parse_single_example(record, {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.FixedLenFeature([], tf.int64),
    })
    image = tf.io.decode_jpeg(features["image/encoded"], channels=3)
    return preprocess_for_train(image, size), features["image/class/label"]


def main():
    flags = argparse.ArgumentParser()
    flags.add_argument("--dir", required=True)
    flags.add_argument("--threads", type=int, default=2)
    flags.add_argument("--batches", type=int, default=60)
    flags.add_argument("--batch_size", type=int, default=32)
    flags.add_argument("--size", type=int, default=224)
    args = flags.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    files = sorted(glob.glob(os.path.join(args.dir, "*.tfrecord")))
    dataset = tf.data.TFRecordDataset(files, num_parallel_reads=4).repeat()
    dataset = dataset.shuffle(10 * args.batch_size, seed=1)
    dataset = dataset.map(lambda record: parse(record, args.size), num_parallel_calls=args.threads)
    dataset = dataset.batch(args.batch_size, drop_remainder=True).prefetch(4)
    options = tf.data.Options()
    options.threading.private_threadpool_size = args.threads
    dataset = dataset.with_options(options)
    batches = iter(dataset)
    for _ in range(5):
        next(batches)
    start = time.perf_counter()
    for _ in range(args.batches):
        next(batches)
    rate = args.batches * args.batch_size / (time.perf_counter() - start)
    print(json.dumps({"bench": "input_pipeline", "framework": "tf.data", "threads": args.threads,
                      "images_per_s": round(rate, 1)}))


if __name__ == "__main__":
    main()
