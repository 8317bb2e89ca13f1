"""The model card (README.md) of a model folder, rendered from its config.json and metrics.json: what the
model is, how well it does per movement and per collection, what it was trained on and how.

One renderer serves train.py, which writes the card into the folder, and the Hub push, which renders
it again with the repo's name for the usage lines.
"""

import os
from pathlib import PureWindowsPath

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from artnet.explain.faithfulness_report import table_lines
from artnet.model.backbones import BACKBONES
from artnet.model.folder import PLOTS_FOLDER, read_config, read_metrics

PAINTER_BY_NUMBERS = "painter-by-numbers"

TEMPLATE = """---
{{ card_data }}
---

# ArtNet: {{ title }}

{{ labels | length }}-way art-movement classifier ({{ labels | join(", ") }}): a {{ backbone }} trained
with Keras 3 on TensorFlow, served with class activation maps (Grad-CAM, Grad-CAM++, LayerCAM, HiResCAM) by the ArtNet Gradio app.

{% for warning in warnings %}> **Warning:** {{ warning }}

{% endfor %}## Use it

```bash
python app.py --model {{ model_spec }}
```

```python
from artnet.serve.classifier import Classifier
from artnet.hub.pull import pull

classifier = Classifier.from_folder(pull("{{ model_spec }}").folder)
classifier.classify("painting.jpg")  # {movement: probability}
```

The model takes RGB pixels in 0..255, {{ image_size }} x {{ image_size }}, and normalises them itself as its
ImageNet weights expect. {% if way_in %}Every image reaches it by one way in, in training and in the app alike:
decoded and turned upright;{% if way_in.find_painting %} in a photo, the painting is found and warped flat;{% endif %} shrunk to {{ image_size }} px
on its longest side and{% if way_in.jpeg_quality %} saved as JPEG at quality {{ way_in.jpeg_quality }}, as the training copies were;{% endif %} then padded to a
square with the ImageNet mean colour.{% else %}Paintings are padded to a square with the ImageNet mean colour, then resized.{% endif %}
config.json holds the labels in output order, the input size, how images are prepared, the backbone, the
Grad-CAM layers and the most faithful CAM method and layer.

## Results on the held-out test split

{% if test %}| evaluation | paintings | accuracy | macro-F1 |
| --- | ---: | ---: | ---: |
| whole painting | {{ test.paintings | default("n/a") }} | {{ percent(test.accuracy) }} | {{ number(test.macro_f1, ".3f") }} |
{% if test_tta %}| test-time augmentation (whole, flipped, squashed, centre square) | {{ test_tta.paintings | default("n/a") }} | {{ percent(test_tta.accuracy) }} | {{ number(test_tta.macro_f1, ".3f") }} |
{% endif %}{% if per_class %}
| movement | precision | recall | F1 | test paintings |
| --- | ---: | ---: | ---: | ---: |
{% for label, scores in per_class.items() %}| {{ label }} | {{ number(scores.precision, ".3f") }} | {{ number(scores.recall, ".3f") }} | {{ number(scores.f1, ".3f") }} | {{ scores.support | default("n/a") }} |
{% endfor %}{% endif %}{% if confusion %}
Confusion matrix (rows: true movement, columns: predicted, in the order above):

| | {{ labels | join(" | ") }} |
| --- |{% for label in labels %} ---: |{% endfor %}
{% for row in confusion %}| {{ labels[loop.index0] }} | {{ row | join(" | ") }} |
{% endfor %}{% endif %}
The reference ArtNet (Streamlit) reported 66.75 % test accuracy on five movements of Painter by Numbers.
{% if calibration %}
Calibration: the probabilities are divided by a temperature of {{ number(calibration.temperature, ".2f") }} fitted on
the validation split (temperature scaling), so that a movement given p % is right about p % of the time.
Expected calibration error on the test split ({{ calibration.bins }} bins): {{ number(calibration.ece_before, ".3f") }} as
trained, {{ number(calibration.ece_after, ".3f") }} calibrated.
{% endif %}{% else %}This model folder has not been evaluated (metrics.json has no test results).
{% endif %}{% if per_source %}
## Shortcuts: does it learn the movement, or the collection?

Test accuracy per movement and collection (whole painting):

| movement | collection | test paintings | accuracy |{% if cross %} left out of training |{% endif %}{% if cross.mean_coverage is defined %} left out: sets hold it |{% endif %}{% if cross.mean_in_scope is defined %} left out: kept in scope |{% endif %}
| --- | --- | ---: | ---: |{% if cross %} ---: |{% endif %}{% if cross.mean_coverage is defined %} ---: |{% endif %}{% if cross.mean_in_scope is defined %} ---: |{% endif %}
{% for movement, sources in per_source.items() %}{% for source, scores in sources.items() %}| {{ movement }} | {{ source }} | {{ scores.paintings }} | {{ percent(scores.accuracy) }} |{% if cross %} {{ left_out(movement, source, "accuracy") }} |{% endif %}{% if cross.mean_coverage is defined %} {{ left_out(movement, source, "coverage") }} |{% endif %}{% if cross.mean_in_scope is defined %} {{ left_out(movement, source, "in_scope") }} |{% endif %}
{% endfor %}{% endfor %}{% if cross %}
"Left out of training": the same recipe trained without that collection's paintings of the movement, and
tested on all of them ({{ cross.collections | length }} collections in {{ cross.folds | length }} folds; mean
{{ percent(cross.mean_accuracy) }}). A low number there means that the movement's other collections do not
teach what this one looks like: a different sub-style, or a collection the model recognises by its look.
{% if cross.mean_coverage is defined %}Each fold's prediction sets{% if cross.mean_in_scope is defined %} and scope threshold{% endif %} are fitted on its own validation split; a
left-out collection is not exchangeable with it, so the sets' coverage there (mean {{ percent(cross.mean_coverage) }}) says how
far their guarantee holds for paintings from elsewhere{% if cross.mean_in_scope is defined %}, and "kept in scope" (mean {{ percent(cross.mean_in_scope) }}) how often a new
collection of a known movement is still recognised as one of the movements{% endif %}.
{% endif %}{% endif %}{% endif %}{% if shape %}
Shape test: shown centre-cropped to a square instead of padded, the movement of {{ percent(shape.changed_centre) }}
of the test paintings changes; squashed to a square, {{ percent(shape.changed_squashed) }}; by either,
{{ percent(shape.changed_any) }}.
{% endif %}{% if probe %}
Collection probe: a logistic regression on the features that the model's last layer sees tells which
collection a painting of a movement came from {{ percent(probe.mean_accuracy) }} of the time (cross-validated;
chance, the largest collection's share, {{ percent(probe.mean_chance) }}). Lower is better.
{% endif %}
{% if sets %}## Prediction sets and "none of these"

Besides its probabilities, the model answers with a prediction set: every movement whose calibrated
probability is at least {{ number(sets.probability_floor, ".3f") }}, most likely first, and at least the most likely one
({{ sets.method }}; Sadinle, Lei and Wasserman, 2019). The floor is fitted on the validation split so that
the sets hold the true movement of {{ percent(sets.coverage) }} of paintings like those of the training collections.
{% if sets.test %}On the test split they hold it {{ percent(sets.test.coverage) }} of the time, with {{ number(sets.test.mean_size, ".2f") }} movements on
average ({{ percent(sets.test.single) }} name one):

| movement | test paintings | the set holds it | mean set size |
| --- | ---: | ---: | ---: |
{% for label, found in sets.test.per_movement.items() %}| {{ label }} | {{ found.paintings }} | {{ percent(found.coverage) }} | {{ number(found.mean_size, ".2f") }} |
{% endfor %}{% endif %}
{% if scope %}"None of these": {{ scope.description }}. Below the threshold, {{ number(scope.threshold, ".2f") }}, which keeps {{ percent(scope.kept_on_validation) }} of
the validation paintings in scope, the answer is that the painting looks like none of the movements (the
app then names the closest). Trained on {{ scope_images.train }} out-of-scope images, tested on {{ scope.test.images }} others of the same
categories{% if scope_categories %} ({{ scope_categories }}){% endif %}, against the {{ scope.test.paintings }} test paintings of the movements:
{{ percent(scope.test.kept) }} of those are kept in scope, and the area under the ROC curve of the score is:

| out-of-scope test images | images | AUROC | flagged at the threshold |
| --- | ---: | ---: | ---: |
| all | {{ scope.test.images }} | {{ number(scope.test.auroc, ".3f") }} | {{ percent(scope.test.flagged) }} |
{% for kind in ("near", "far") %}{% if scope.test[kind] %}| {{ kind }} | {{ scope.test[kind].images }} | {{ number(scope.test[kind].auroc, ".3f") }} | {{ percent(scope.test[kind].flagged) }} |
{% endif %}{% endfor %}{% for category, found in scope.test.per_category.items() %}| {{ category }} | {{ found.images }} | {{ number(found.auroc, ".3f") }} | {{ percent(found.flagged) }} |
{% endfor %}
Test accuracy of the movements: {{ percent(scope.test_accuracy) }} trained with the out-of-scope images,
{{ percent(scope.test_accuracy_without_out_of_scope_images) }} without them.
{% if plots_scope %}
![The scope score of the test paintings and out-of-scope images, with the threshold](plots/scope.png)
{% endif %}{% endif %}
{% endif %}{% if visitors %}## Paintings as visitors bring them

Measured through the app's way in, on images unlike the training copies:
{% if visitors.elsewhere %}{{ visitors.elsewhere.paintings }} paintings of the movements from other sources, kept as their sources had them (any size and
compression; never trained on), and {% endif %}{{ visitors.photos.paintings }} photos of paintings on a wall (generated: walls, frames, perspective, uneven light,
glare, noise and phone JPEG){% if visitors.photos_out_of_scope %}, and {{ visitors.photos_out_of_scope.images }} photos of out-of-scope test images{% endif %}.

| images | top-1 | kept in scope |
| --- | ---: | ---: |
{% if visitors.elsewhere %}| paintings from elsewhere | {{ percent(visitors.elsewhere.top1) }} | {{ percent(visitors.elsewhere.kept) }} |
{% for label, found in visitors.elsewhere.per_movement.items() %}| paintings from elsewhere: {{ label }} ({{ found.paintings }}) | {{ percent(found.top1) }} | {{ percent(found.kept) }} |
{% endfor %}{% endif %}| photos of paintings on a wall | {{ percent(visitors.photos.top1) }} | {{ percent(visitors.photos.kept) }} |
| the same paintings as files | {{ percent(visitors.photos.as_files.top1) }} | {{ percent(visitors.photos.as_files.kept) }} |
{% if visitors.photos_out_of_scope %}| photos of out-of-scope images (flagged) | | {{ percent(1 - visitors.photos_out_of_scope.flagged) }} |
{% endif %}
A painting was found and cropped in {{ percent(visitors.photos.cropped) }} of the photos; {{ percent(visitors.test_left_whole) }} of the test
paintings, files already, were left whole.

{% endif %}## Explanations: do the maps point at what the model uses?

{% if faithfulness %}Deletion and insertion curves (Petsiuk et al., 2018) on {{ faithfulness.paintings | default("n/a") }} test paintings,
{{ faithfulness.steps | default("n/a") }} steps each ({{ faithfulness.left_out_without_maps | default(0) }} paintings left out without maps). Deletion removes a painting's pixels,
the most salient first by a map, and should lower the probability of the explained movement fast (small
area); insertion reveals them, starting from {{ faithfulness.removed_pixels_show | default("a blurred copy") }},
and should raise it fast (large area). Each map is compared on the same painting with {{ faithful_baselines }};
"(noise)" marks a map that does not beat every random map on most paintings.
{% if faithful_best %}The app opens on the most faithful, ★: {{ faithful_best.method }} at the {{ faithful_best.depth }} depth{% if faithfulness.choice_rule %},
chosen as {{ faithfulness.choice_rule }}. Against each baseline it does better on at least
{{ percent(faithful_row.deletion_worst) }} of the paintings for deletion and {{ percent(faithful_row.insertion_worst) }} for insertion{% endif %}.
{% endif %}
{{ faithfulness_table }}
{% else %}Not measured for this model folder.
{% endif %}
## Data

{% if counts %}Data set: {{ counts.dataset | default("unknown") }}. Source: {{ counts.layout | default("unknown") }}. Split by painting, stratified by movement, seed {{ training.seed | default("unknown") }}.

| movement | train | validation | test |
| --- | ---: | ---: | ---: |
{% for label in labels %}| {{ label }} | {{ split_counts.train[label] | default("n/a") }} | {{ split_counts.validation[label] | default("n/a") }} | {{ split_counts.test[label] | default("n/a") }} |
{% endfor %}
Left out: {% for reason, count in skipped.items() %}{{ count }} {{ reason }}{% if not loop.last %}, {% endif %}{% else %}nothing{% endfor %}.
{% if views %}Each training painting is seen in {{ views | length }} views: {{ views | join(", ") }}.
{% endif %}{% else %}Unknown.
{% endif %}
## Training

{% if training %}| setting | value |
| --- | --- |
{% for key, value in training.items() %}| {{ key }} | {{ value }} |
{% endfor %}{% else %}Unknown.
{% endif %}
## Limitations

{% if scope %}Five broad movements cannot describe every painting. The scope score flags most images of the
out-of-scope categories it was trained on, European painting before 1800 ("near") less often than prints,
Pop Art and photographs; a movement it has never seen (Romanticism, Symbolism...) may be taken for the
closest of the five, or flagged, and neither is a judgement of its worth.
{% else %}Five broad movements cannot describe every painting: works from other movements (Baroque, Romanticism,
Pop Art...) still get one of the five labels.
{% endif %}A CAM map shows where the evidence for a movement lies, at the
resolution of the chosen layer; it is not a proof of what the network "understands", and the table above
says how far each map can be trusted.
"""


def render_model_card(model_folder, repo_id=None):
    """README.md text for a model folder: Hub metadata, usage, metrics, data counts, hyper-parameters.

    An incomplete metrics.json gives a card of what it has, with "n/a" where a number is missing.
    """
    config = read_config(model_folder)
    metrics = _mapping(read_metrics(model_folder))
    test, counts = _mapping(metrics.get("test")), _mapping(metrics.get("counts"))
    training = _published_training(_mapping(metrics.get("training")))
    backbone = BACKBONES.get(config.get("backbone", "densenet121"))
    title = config.get("backbone_title") or (backbone.title if backbone else config.get("backbone", "model"))
    cross = _mapping(metrics.get("cross_collection"))
    faithful = _mapping(metrics.get("faithfulness"))
    faithful_best = _mapping(faithful.get("most_faithful"))
    left_out = {
        (entry.get("movement"), entry.get("source")): entry
        for entry in cross.get("collections", [])
        if isinstance(entry, dict)
    }
    scope = _mapping(metrics.get("out_of_scope"))
    return ModelCard.from_template(
        _card_data(config, metrics, backbone, repo_id),
        template_str=TEMPLATE,
        title=repo_id or f"{title} art-movement classifier",
        labels=config["labels"],
        backbone=title,
        image_size=config["image_size"],
        way_in=_mapping(config.get("way_in")),
        visitors=_mapping(metrics.get("visitors")),
        model_spec=f"{repo_id}@<revision>" if repo_id else "path/to/this/folder",
        test=test,
        test_tta=_mapping(metrics.get("test_tta")),
        per_class=_mapping(test.get("per_class")),
        confusion=test.get("confusion_matrix") if isinstance(test.get("confusion_matrix"), list) else None,
        per_source=_mapping(metrics.get("per_source")),
        cross=cross,
        left_out=lambda movement, source, key: (
            _percent(_mapping(left_out.get((movement, source))).get(key)) if (movement, source) in left_out else ""
        ),
        sets=_mapping(metrics.get("prediction_sets")),
        scope=scope,
        scope_images={split: sum(_mapping(counts).values()) for split, counts in _mapping(scope.get("images")).items()},
        scope_categories=", ".join(_mapping(_mapping(scope.get("test")).get("per_category"))),
        plots_scope=os.path.isfile(os.path.join(model_folder, PLOTS_FOLDER, "scope.png")),
        shape=_mapping(metrics.get("shape")),
        calibration=_mapping(metrics.get("calibration")),
        probe=_mapping(metrics.get("collection_predictability")),
        faithfulness=faithful,
        faithful_best=faithful_best,
        faithful_row=_mapping(
            _mapping(_mapping(faithful.get("methods")).get(faithful_best.get("method"))).get(faithful_best.get("layer"))
        ),
        faithful_baselines=_in_words(list(_mapping(faithful.get("baselines")).values()))
        or "a random map at its depth's resolution and a centred blob",
        faithfulness_table="\n".join(table_lines(faithful)),
        counts=counts,
        split_counts={split: _mapping(counts.get(split)) for split in ("train", "validation", "test")},
        skipped=_mapping(counts.get("skipped")),
        training=training,
        views=_mapping(metrics.get("training")).get("views") or [],
        warnings=[str(warning) for warning in metrics.get("warnings") or []],
        number=_number,
        percent=_percent,
    ).content


def _card_data(config, metrics, backbone, repo_id):
    """The card's YAML metadata for the Hub: library, task, tags, data set, base model and the test results."""
    test, test_tta, counts = (_mapping(metrics.get(key)) for key in ("test", "test_tta", "counts"))
    painter_by_numbers = str(counts.get("layout", "")).startswith("Painter by Numbers")
    dataset_name = counts.get("dataset") or ("Painter by Numbers (WikiArt)" if painter_by_numbers else "unknown")
    eval_results = [
        EvalResult(
            task_type="image-classification",
            dataset_type=PAINTER_BY_NUMBERS if painter_by_numbers else "imagefolder",
            dataset_name=dataset_name,
            dataset_split="test",
            metric_type=metric_type,
            metric_name=metric_name,
            metric_value=round(value, 4),
        )
        for metric_type, metric_name, value in (
            ("accuracy", "Test accuracy (whole painting)", test.get("accuracy")),
            ("f1", "Test macro-F1 (whole painting)", test.get("macro_f1")),
            ("accuracy", "Test accuracy (test-time augmentation)", test_tta.get("accuracy")),
        )
        if _is_number(value)
    ]
    name = backbone.name if backbone else config.get("backbone", "model")
    imagenet = _mapping(metrics.get("training")).get("backbone_weights", "imagenet") == "imagenet"
    return ModelCardData(
        library_name="keras",
        pipeline_tag="image-classification",
        tags=[
            "keras",
            "tensorflow",
            "image-classification",
            "art",
            "painting",
            name,
            "grad-cam",
            "grad-cam-plus-plus",
            "layercam",
            "hirescam",
            "artnet",
        ],
        datasets=[PAINTER_BY_NUMBERS] if painter_by_numbers else None,
        metrics=["accuracy", "f1"],
        base_model=backbone.hub_base_model if backbone and imagenet else None,
        model_name=repo_id or f"artnet-{name}",
        eval_results=eval_results or None,
    )


def _published_training(training):
    """The training settings as the card shows them: a weights file by its name, not by where it lies on
    the machine that trained."""
    published = {
        key: ", ".join(map(str, value)) if isinstance(value, list) else value for key, value in training.items()
    }
    weights = training.get("backbone_weights")
    if isinstance(weights, str) and weights.lower() not in ("imagenet", "none"):
        # PureWindowsPath splits on both / and \, wherever the model was trained.
        published["backbone_weights"] = PureWindowsPath(weights).name
    return published


def _in_words(items):
    """The items as a list in words, "a, b and c"; empty for none."""
    return " and ".join(filter(None, (", ".join(items[:-1]), *items[-1:])))


def _mapping(value):
    """`value` if it is a dict, else an empty one: a section missing from metrics.json renders as absent."""
    return value if isinstance(value, dict) else {}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value, spec):
    return format(value, spec) if _is_number(value) else "n/a"


def _percent(fraction):
    return f"{100 * fraction:.2f} %" if _is_number(fraction) else "n/a"
