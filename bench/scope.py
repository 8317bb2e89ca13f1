"""Scope scores measured side by side: how well each tells the validation paintings of the five movements
from the validation out-of-scope images, on the default recipe's cached features, on one split.

    python bench/scope.py [--data ../shared/paintings] [--out-of-scope ../shared/out_of_scope]
                          [--weights ../shared/weights/mobilenet_0.75_imagenet_notop.weights.h5] [--feature-cache DIR]

Only validation images choose: the test images of both kinds stay untouched, as train.py keeps them. Every
row trains the default top on the cached features (ten epochs, the six views of each painting), with or
without out-of-scope images:

- without them, the score is what the movements' outputs say: the top calibrated probability, the top
  logit, the energy (logsumexp of the logits), the similarity to the ten nearest training paintings in the
  embedding that the closest-paintings index holds, a Mahalanobis distance to the movements in it;
- outlier exposure that pushes the five probabilities of an out-of-scope image towards uniform (a loss
  weighed at a share of the paintings'), scored by the top logit;
- a separate in-scope / out-of-scope head on the style statistics;
- a sixth output, "none of these" (train.py's), scored by log(p(any movement) / p(none)), with the
  out-of-scope images in two views or six.

Columns: the AUROC against near and far images; at the threshold that keeps 95 % of the validation paintings,
the share of far and near images flagged; the five-movement validation accuracy; what training costs, as
the samples of an epoch against the paintings' alone (a separate head is a second training). Takes about
10 minutes on 2 cores with the features cached (the first run computes them: train.py's cache is reused
when --feature-cache names it).
"""

import argparse
import os

from timing import SHARED, add_shared_data_options, load_average, print_table, setup_environment

setup_environment()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from artnet.data.out_of_scope import find_out_of_scope, split_out_of_scope  # noqa: E402
from artnet.data.views import VIEWS  # noqa: E402
from artnet.model import calibration, scope  # noqa: E402
from artnet.model.network import split_at_training, with_out_of_scope_output  # noqa: E402
from artnet.train import fitting  # noqa: E402
from artnet.train.answer_evaluation import auroc  # noqa: E402
from artnet.train.features import default_cache_root, load_or_build  # noqa: E402
from artnet.train.options import TrainingOptions  # noqa: E402
from artnet.train.run import _build_network  # noqa: E402
from artnet.train.setup import prepare_run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEPT = 0.95
NEIGHBOURS = 10


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shared_data_options(parser)
    parser.add_argument("--out-of-scope", default=os.path.join(SHARED, "out_of_scope"))
    parser.add_argument("--feature-cache", default=default_cache_root())
    return parser.parse_args()


class Bench:
    """The default recipe's cached features of the paintings and the out-of-scope images, in memory."""

    def __init__(self, arguments):
        self.options = TrainingOptions(backbone_weights=arguments.weights)
        prepared = prepare_run(
            arguments.data, os.path.join(ROOT, "runs", "bench-scope"), self.options, out_of_scope=arguments.out_of_scope
        )
        state = prepared.state
        labels = {label: number for number, label in enumerate(state.labels)}
        trunk, self.top = split_at_training(_build_network(self.options, state.labels))
        paintings = sorted((p for split in state.split.values() for p in split), key=lambda p: p.path)
        features = load_or_build(trunk, paintings, tuple(VIEWS), self.options.way_in, arguments.feature_cache)
        images = find_out_of_scope(arguments.out_of_scope)
        others = load_or_build(trunk, images, tuple(VIEWS), self.options.way_in, arguments.feature_cache)
        self.paintings, self.others = np.asarray(features.arrays[0]), np.asarray(others.arrays[0])
        self.views = [features.view_index(view) for view in self.options.views]
        self.whole = features.view_index("whole")
        self.rows, self.labels = {}, {}
        for name, split in state.split.items():
            self.rows[name] = features.rows(split)
            self.labels[name] = np.array([labels[p.movement] for p in split if not features.failed(p)])
        split = split_out_of_scope(images, self.options.seed)
        self.other_rows = {name: others.rows(chosen) for name, chosen in split.items()}
        self.kinds = np.array([image.kind for image in split["validation"]])

    def samples(self, other_views=()):
        """(inputs, movement labels, out-of-scope inputs) of the training split."""
        inputs = self.paintings[self.rows["train"]][:, self.views].reshape(-1, self.paintings.shape[-1])
        labels = np.repeat(self.labels["train"], len(self.views))
        views = [VIEWS_ORDER.index(view) for view in other_views]
        other_inputs = self.others[self.other_rows["train"]][:, views].reshape(-1, self.others.shape[-1])
        return inputs, labels, other_inputs

    def fit(self, model, inputs, targets, weights=None):
        """Train `model` as train.py trains the top; the samples of an epoch, as a ratio to the paintings'."""
        model.compile(
            optimizer=keras.optimizers.Adam(self.options.learning_rate),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.options.label_smoothing),
        )
        keras.utils.set_random_seed(self.options.seed)
        model.fit(
            inputs,
            targets,
            sample_weight=weights,
            batch_size=self.options.batch_size,
            epochs=self.options.epochs,
            callbacks=[fitting.learning_rate_schedule(self.options)],
            verbose=0,
        )
        return len(inputs) / (len(self.rows["train"]) * len(self.views))

    def validation(self):
        """(paintings' whole views, out-of-scope images' whole views) of the validation split."""
        return self.paintings[self.rows["validation"], self.whole], self.others[
            self.other_rows["validation"], self.whole
        ]

    def row(self, name, in_scope, out_of_scope, accuracy, cost):
        threshold = scope.threshold_keeping(in_scope, KEPT)
        flagged = out_of_scope < threshold
        return [
            name,
            f"{auroc(in_scope, out_of_scope[self.kinds == 'near']):.3f}",
            f"{auroc(in_scope, out_of_scope[self.kinds == 'far']):.3f}",
            f"{flagged[self.kinds == 'far'].mean():.0%}",
            f"{flagged[self.kinds == 'near'].mean():.0%}",
            f"{accuracy:.1%}",
            cost,
        ]


VIEWS_ORDER = tuple(VIEWS)


def outputs(model, inputs):
    """(logits, embeddings) of the movements' head."""
    logits, embeddings = fitting.head_model(model).predict(inputs, batch_size=512, verbose=0)
    return logits.astype(np.float64), embeddings.astype(np.float64)


def nearest_similarity(reference, embeddings, k=NEIGHBOURS):
    """The cosine similarity to the k-th nearest reference embedding."""
    reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    similarities = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True) @ reference.T
    return -np.partition(-similarities, k - 1, axis=1)[:, k - 1]


def mahalanobis(reference, labels, embeddings):
    """Minus the smallest Mahalanobis distance to a movement's mean, with their shared covariance."""
    means = np.stack([reference[labels == label].mean(axis=0) for label in np.unique(labels)])
    centred = reference - means[labels]
    covariance = centred.T @ centred / len(reference) + 1e-3 * np.eye(reference.shape[1])
    precision = np.linalg.inv(covariance)
    distances = [np.einsum("ij,jk,ik->i", embeddings - mean, precision, embeddings - mean) for mean in means]
    return -np.min(distances, axis=0)


def main():
    arguments = parse_arguments()
    print(f"bench/scope.py: {load_average()}")
    bench = Bench(arguments)
    paintings, others = bench.validation()
    truth = bench.labels["validation"]
    rows = []

    inputs, labels, _ = bench.samples()
    plain = fitting.fresh_copy(bench.top)
    bench.fit(plain, inputs, fitting.one_hot(labels, 5))
    (logits, embeddings), (other_logits, other_embeddings) = outputs(plain, paintings), outputs(plain, others)
    accuracy = np.mean(logits.argmax(axis=1) == truth)
    temperature = calibration.fit_temperature(logits, truth)
    train_embeddings = outputs(plain, bench.paintings[bench.rows["train"], bench.whole])[1]
    for name, score in (
        ("top probability (calibrated)", lambda logit, e: calibration.softmax(logit, temperature).max(axis=1)),
        ("top logit", lambda logit, e: logit.max(axis=1)),
        ("energy", lambda logit, e: scope.scores(logit, np.zeros(len(logit)))),
        (f"nearest training paintings (k = {NEIGHBOURS})", lambda logit, e: nearest_similarity(train_embeddings, e)),
        ("Mahalanobis in the embedding", lambda logit, e: mahalanobis(train_embeddings, bench.labels["train"], e)),
    ):
        rows.append(
            bench.row(name, score(logits, embeddings), score(other_logits, other_embeddings), accuracy, "1.00×")
        )

    for share in (0.25, 1.0):
        inputs, labels, other_inputs = bench.samples(VIEWS_ORDER)
        model = fitting.fresh_copy(bench.top)
        targets = np.concatenate([fitting.one_hot(labels, 5), np.full((len(other_inputs), 5), 0.2, np.float32)])
        weights = np.concatenate(
            [np.ones(len(inputs)), np.full(len(other_inputs), share * len(inputs) / len(other_inputs))]
        )
        samples = bench.fit(model, np.concatenate([inputs, other_inputs]), targets, weights)
        (logits, _), (other_logits, _) = outputs(model, paintings), outputs(model, others)
        rows.append(
            bench.row(
                f"uniform outlier exposure (weight {share}), top logit",
                logits.max(axis=1),
                other_logits.max(axis=1),
                np.mean(logits.argmax(axis=1) == truth),
                f"{samples:.2f}×",
            )
        )

    inputs, _, other_inputs = bench.samples(VIEWS_ORDER)
    statistics = keras.Input(inputs.shape[1:])
    hidden = keras.layers.Dropout(0.5)(keras.layers.BatchNormalization()(statistics))
    hidden = keras.layers.Dropout(0.5)(keras.layers.Dense(256, activation="relu")(hidden))
    separate = keras.Model(statistics, keras.layers.Dense(2, activation="softmax")(hidden))
    targets = fitting.one_hot(np.concatenate([np.zeros(len(inputs), int), np.ones(len(other_inputs), int)]), 2)
    weights = np.concatenate([np.ones(len(inputs)), np.full(len(other_inputs), 0.5 * len(inputs) / len(other_inputs))])
    samples = bench.fit(separate, np.concatenate([inputs, other_inputs]), targets, weights)
    in_scope = separate.predict(paintings, batch_size=512, verbose=0)[:, 0]
    rows.append(
        bench.row(
            "separate in/out head on the statistics",
            np.log(in_scope + 1e-12),
            np.log(separate.predict(others, batch_size=512, verbose=0)[:, 0] + 1e-12),
            accuracy,
            f"1.00× + {samples:.2f}×",
        )
    )

    for other_views in (fitting.OUT_OF_SCOPE_VIEWS, VIEWS_ORDER):
        inputs, labels, other_inputs = bench.samples(other_views)
        model = with_out_of_scope_output(fitting.fresh_copy(bench.top))
        targets = fitting.one_hot(np.concatenate([labels, np.full(len(other_inputs), 5)]), 6)
        samples = bench.fit(model, np.concatenate([inputs, other_inputs]), targets)
        (logits, embeddings), (other_logits, other_embeddings) = outputs(model, paintings), outputs(model, others)
        rule = fitting.scope_rule(model, logits, embeddings)
        rows.append(
            bench.row(
                f'sixth output "none of these", out-of-scope images in {len(other_views)} views',
                rule.scores(logits, embeddings),
                rule.scores(other_logits, other_embeddings),
                np.mean(logits.argmax(axis=1) == truth),
                f"{samples:.2f}×",
            )
        )
    print_table(
        ["scope score", "AUROC near", "AUROC far", "far flagged", "near flagged", "accuracy", "training samples"], rows
    )


if __name__ == "__main__":
    main()
