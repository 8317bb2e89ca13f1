"""The model card (README.md) of a model folder, rendered from its config.json and metrics.json.

One renderer serves train.py, which writes the card into the folder, and the Hub push, which renders
it again with the repo's name for the usage lines.
"""

from pathlib import PureWindowsPath

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from artnet.model_folder import read_config, read_metrics

# The Hub's reference for DenseNet-121 with ImageNet weights (keras.applications uses the same network).
IMAGENET_BASE_MODEL = "keras/densenet_121_imagenet"
DATASET_NAME = "Painter by Numbers (WikiArt), styles merged into 5 movements"

TEMPLATE = """---
{{ card_data }}
---

# ArtNet: {{ title }}

{{ labels | length }}-way art-movement classifier ({{ labels | join(", ") }}): a {{ backbone }} fine-tuned
with Keras 3 on TensorFlow, served with Grad-CAM explanations by the ArtNet Gradio app.

## Use it

```bash
python app.py --model {{ model_spec }}
```

```python
from artnet.classifier import Classifier
from artnet.hub import pull

classifier = Classifier.from_folder(pull("{{ model_spec }}").folder)
classifier.classify("painting.jpg")  # {movement: probability}
```

The model takes RGB pixels in 0..255, {{ image_size }} x {{ image_size }}, and normalises them itself (ImageNet
mean/std). Paintings are padded to a square with the ImageNet mean colour, then resized; config.json holds
the labels in output order, the input size and the Grad-CAM layers.

## Results on the held-out test split

{% if test %}| evaluation | paintings | accuracy | macro-F1 |
| --- | ---: | ---: | ---: |
| whole painting | {{ test.paintings | default("n/a") }} | {{ percent(test.accuracy) }} | {{ number(test.macro_f1, ".3f") }} |
{% if test_tta %}| test-time augmentation (whole + 5 crops, each flipped) | {{ test_tta.paintings | default("n/a") }} | {{ percent(test_tta.accuracy) }} | {{ number(test_tta.macro_f1, ".3f") }} |
{% endif %}{% if per_class %}
| movement | precision | recall | F1 | test paintings |
| --- | ---: | ---: | ---: | ---: |
{% for label, scores in per_class.items() %}| {{ label }} | {{ number(scores.precision, ".3f") }} | {{ number(scores.recall, ".3f") }} | {{ number(scores.f1, ".3f") }} | {{ scores.support | default("n/a") }} |
{% endfor %}{% endif %}
The reference ArtNet (Streamlit) reached 66.75 % test accuracy on the same five movements.
{% else %}This model folder has not been evaluated (metrics.json has no test results).
{% endif %}
## Data

{% if counts %}Source: {{ counts.layout | default("unknown") }}. Split by painting (never by crop), stratified by movement, seed {{ training.seed | default("unknown") }}.

| movement | train | validation | test |
| --- | ---: | ---: | ---: |
{% for label in labels %}| {{ label }} | {{ split_counts.train[label] | default("n/a") }} | {{ split_counts.validation[label] | default("n/a") }} | {{ split_counts.test[label] | default("n/a") }} |
{% endfor %}
Left out: {% for reason, count in skipped.items() %}{{ count }} {{ reason }}{% if not loop.last %}, {% endif %}{% else %}nothing{% endfor %}.
Each training painting gives six samples: the whole painting padded and resized, and five crops (corners and
centre) cut at full resolution.
{% else %}Unknown.
{% endif %}
## Training

{% if training %}| setting | value |
| --- | --- |
{% for key, value in training.items() %}| {{ key }} | {{ value }} |
{% endfor %}{% else %}Unknown.
{% endif %}
## Limitations

Five broad movements cannot describe every painting: works from other movements (Baroque, Romanticism,
Pop Art...) still get one of the five labels. Grad-CAM shows where the evidence for a movement lies, at the
resolution of the chosen layer; it is not a proof of what the network "understands".
"""


def render_model_card(model_folder, repo_id=None):
    """README.md text for a model folder: Hub metadata, usage, metrics, data counts, hyper-parameters.

    An incomplete metrics.json gives a card of what it has, with "n/a" where a number is missing.
    """
    config = read_config(model_folder)
    metrics = _mapping(read_metrics(model_folder))
    test, test_tta, counts = (_mapping(metrics.get(key)) for key in ("test", "test_tta", "counts"))
    training = _published_training(_mapping(metrics.get("training")))
    imagenet = training.get("backbone_weights", "imagenet") == "imagenet"
    eval_results = [
        EvalResult(
            task_type="image-classification",
            dataset_type="painter-by-numbers",
            dataset_name=DATASET_NAME,
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
    card_data = ModelCardData(
        library_name="keras",
        pipeline_tag="image-classification",
        tags=["keras", "tensorflow", "image-classification", "art", "painting", "densenet121", "grad-cam", "artnet"],
        datasets=["painter-by-numbers"],
        metrics=["accuracy", "f1"],
        base_model=IMAGENET_BASE_MODEL if imagenet else None,
        model_name=repo_id or "artnet-densenet121",
        eval_results=eval_results or None,
    )
    return ModelCard.from_template(
        card_data,
        template_str=TEMPLATE,
        title=repo_id or "DenseNet-121 art-movement classifier",
        labels=config["labels"],
        backbone="DenseNet-121" if config.get("backbone") == "densenet121" else config.get("backbone", "model"),
        image_size=config["image_size"],
        model_spec=f"{repo_id}@<revision>" if repo_id else "path/to/this/folder",
        test=test,
        test_tta=test_tta,
        per_class=_mapping(test.get("per_class")),
        counts=counts,
        split_counts={split: _mapping(counts.get(split)) for split in ("train", "validation", "test")},
        skipped=_mapping(counts.get("skipped")),
        training=training,
        number=_number,
        percent=_percent,
    ).content


def _published_training(training):
    """The training settings as the card shows them: a weights file by its name, not by where it lies on
    the machine that trained."""
    weights = training.get("backbone_weights")
    if isinstance(weights, str) and weights.lower() not in ("imagenet", "none"):
        # PureWindowsPath splits on both / and \, wherever the model was trained.
        return {**training, "backbone_weights": PureWindowsPath(weights).name}
    return training


def _mapping(value):
    """`value` if it is a dict, else an empty one: a section missing from metrics.json renders as absent."""
    return value if isinstance(value, dict) else {}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value, spec):
    return format(value, spec) if _is_number(value) else "n/a"


def _percent(fraction):
    return f"{100 * fraction:.2f} %" if _is_number(fraction) else "n/a"
