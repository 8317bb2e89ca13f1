"""Paintings as visitors bring them: the trained model measured through the whole way in (artnet.data.way_in), as
the app serves it, on what a visitor drops on the page rather than on the training collections' copies.

- Paintings from elsewhere: a folder of paintings of the movements from other sources, kept as their sources
  had them (any size and compression). For measuring only: nothing here trains or chooses anything on them.
- Photos of paintings: test paintings and paintings from elsewhere photographed on a wall
  (artnet.data.wall_photos, seeded), against the same paintings as files.
- Photos of out-of-scope test images: a photo of something that is not a painting must not become one.
- The painting finder on files: the share of test paintings it leaves whole.
"""

import logging

import numpy as np

from artnet.data.finding import find_painting
from artnet.data.images import ImageError, load_image
from artnet.data.wall_photos import photographs
from artnet.data.way_in import look
from artnet.explain.faithfulness import stratified_sample
from artnet.model.answers import AnswerRules
from artnet.model.calibration import softmax
from artnet.model.network import answer_outputs
from artnet.threads import in_order
from artnet.train.evaluation import classification_metrics

logger = logging.getLogger(__name__)

# Test paintings photographed on a wall, spread over the movements; every painting from elsewhere is too.
PHOTOGRAPHED_TEST_PAINTINGS = 100
# Out-of-scope test images photographed on a wall, spread over the categories.
PHOTOGRAPHED_OUT_OF_SCOPE_IMAGES = 70
# Images passed through the network at a time.
BATCH = 16


class _Answers:
    """What the app answers for images, from the whole network and the folder's answer rules."""

    def __init__(self, model, config, way_in):
        self.outputs = answer_outputs(model)
        self.rules = AnswerRules(config)
        self.temperature = float(config["temperature"])
        self.way_in = way_in

    def of(self, images):
        """(answers, cropped) for images (paths or PIL images) as the app sees them, in one pass."""
        looked = list(in_order(lambda image: look(image, self.way_in), images, window=2 * BATCH))
        pixels = np.stack([seen.model_input(self.way_in.side) for seen in looked])
        logits, embeddings = (
            np.asarray(output, np.float32) for output in self.outputs.predict(pixels, batch_size=BATCH, verbose=0)
        )
        probabilities = softmax(logits, self.temperature)
        answers = [self.rules.answer(*row) for row in zip(probabilities, logits, embeddings)]
        return answers, np.array([seen.cropped for seen in looked])


def visitor_metrics(model, config, way_in, elsewhere, test, out_of_scope_test, seed):
    """metrics.json's "visitors": paintings from elsewhere (Paintings, or None), photos of test paintings
    (Paintings) and of paintings from elsewhere, photos of out-of-scope test images (or None), and the share
    of test paintings the finder leaves whole. `config` holds what config.json will: the labels, the
    temperature and the answer rules."""
    answers = _Answers(model, config, way_in)
    labels = list(config["labels"])
    metrics = {"test_left_whole": _left_whole([painting.path for painting in test])}
    photographed = stratified_sample(test, PHOTOGRAPHED_TEST_PAINTINGS, seed)
    if elsewhere:
        metrics["elsewhere"] = _painting_metrics(answers, elsewhere, [p.path for p in elsewhere], labels)
        photographed += list(elsewhere)
    files, photos = _photographed(photographed, seed)
    test_paintings = set(test)
    metrics["photos"] = {
        **_painting_metrics(answers, files, [photo.image for photo in photos], labels),
        "as_files": _painting_metrics(answers, files, [painting.path for painting in files], labels),
        "from_test": sum(1 for painting in files if painting in test_paintings),
    }
    if out_of_scope_test:
        metrics["photos_out_of_scope"] = _out_of_scope_photo_metrics(answers, out_of_scope_test, seed)
    return metrics


def _photographed(items, seed):
    """The items (paintings or out-of-scope images, by their .path) that load, and a photo of each (seeded)."""
    kept, images = [], []
    for item in items:
        try:
            images.append(load_image(item.path))
            kept.append(item)
        except ImageError as error:
            logger.warning(f"Left out {item.path} from the photos on a wall: {error}")
    return kept, photographs(images, seed=seed)


def _painting_metrics(answers, paintings, images, labels):
    """Top-1 and the share kept in scope of paintings given as `images`, overall and per movement, with the
    share of them in which a painting was found and cropped, and the confusion matrix."""
    found, cropped = answers.of(images)
    truth = np.array([labels.index(painting.movement) for painting in paintings])
    probabilities = np.array([[answer.probabilities[label] for label in labels] for answer in found])
    kept = np.array([answer.in_scope for answer in found])
    correct = probabilities.argmax(axis=1) == truth
    classified = classification_metrics(truth, probabilities, labels)
    return {
        "paintings": len(paintings),
        "top1": float(correct.mean()),
        "kept": float(kept.mean()),
        "kept_and_right": float((kept & correct).mean()),
        "cropped": float(np.mean(cropped)),
        "per_movement": {
            label: {
                "paintings": int((truth == index).sum()),
                "top1": float(correct[truth == index].mean()),
                "kept": float(kept[truth == index].mean()),
            }
            for index, label in enumerate(labels)
            if (truth == index).any()
        },
        "confusion_matrix": classified["confusion_matrix"],
    }


def _out_of_scope_photo_metrics(answers, images, seed):
    """The share of photos of out-of-scope images flagged "none of these", overall and per category."""
    chosen = stratified_sample(images, PHOTOGRAPHED_OUT_OF_SCOPE_IMAGES, seed, group=lambda image: image.category)
    kept_images, photos = _photographed(chosen, seed + 1)
    found, cropped = answers.of([photo.image for photo in photos])
    flagged = np.array([not answer.in_scope for answer in found])
    categories = np.array([image.category for image in kept_images], dtype=object)
    return {
        "images": len(kept_images),
        "flagged": float(flagged.mean()),
        "cropped": float(cropped.mean()),
        "per_category": {
            category: {
                "images": int((categories == category).sum()),
                "flagged": float(flagged[categories == category].mean()),
            }
            for category in sorted(set(categories))
        },
    }


def _left_whole(paths):
    """The share of image files in which the finder finds no painting to crop: it leaves them whole."""
    whole = list(in_order(lambda path: find_painting(load_image(path)) is None, paths, window=32))
    return float(np.mean(whole)) if whole else None
