import itertools

import keras
import numpy as np
import pytest
from PIL import Image

from artnet.explain.cams import CAM_METHODS, BaseCAM, GradCAM, LayerCAM, cam_method, normalise_maps
from artnet.explain.overlay import colormap_lut, render_overlay, upsample_map


def two_layer_model(seed=1):
    """input -> features (3x3 conv, ReLU) -> mixer (1x1 conv, ReLU) -> mean -> logits -> softmax."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 6, 2))
    # Random biases keep pre-activations off ReLU's kink at exactly 0, where finite differences disagree
    # with any autodiff.
    features = keras.layers.Conv2D(
        4, 3, padding="same", activation="relu", bias_initializer="random_normal", name="features"
    )(inputs)
    mixed = keras.layers.Conv2D(3, 1, activation="relu", bias_initializer="random_normal", name="mixer")(features)
    pooled = keras.layers.GlobalAveragePooling2D()(mixed)
    logits = keras.layers.Dense(3, name="logits")(pooled)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def numpy_logits(model, activations):
    """The model's head after `features`, written again in float64 NumPy."""
    mixer_kernel, mixer_bias = model.get_layer("mixer").get_weights()
    dense_kernel, dense_bias = model.get_layer("logits").get_weights()
    mixed = np.maximum(activations @ mixer_kernel[0, 0].astype(np.float64) + mixer_bias, 0)
    return mixed.mean(axis=(0, 1)) @ dense_kernel.astype(np.float64) + dense_bias


def finite_difference_gradients(model, image, class_index):
    """The `features` layer's activations, and the class logit's gradients with respect to them taken by
    central finite differences on the NumPy head: independent of TensorFlow's autodiff."""
    activations = keras.Model(model.input, model.get_layer("features").output)(image[None]).numpy()[0]
    activations = activations.astype(np.float64)
    gradients = np.zeros_like(activations)
    step = 1e-5
    for index in np.ndindex(activations.shape):
        up, down = activations.copy(), activations.copy()
        up[index] += step
        down[index] -= step
        gradients[index] = (numpy_logits(model, up)[class_index] - numpy_logits(model, down)[class_index]) / (2 * step)
    return activations, gradients


def reference_weights(method, activations, gradients):
    """Each method's weights of the (height, width, channels) activations, written from its paper in NumPy."""
    if method == "Grad-CAM":
        return gradients.mean(axis=(0, 1))
    if method == "Grad-CAM++":
        # Chattopadhyay et al., eq. 19 with the exponentiated score: alpha = g^2 / (2 g^2 + sum_ab A_ab g^3).
        alphas = np.zeros_like(gradients)
        for i, j, k in np.ndindex(gradients.shape):
            g = gradients[i, j, k]
            if g != 0:
                alphas[i, j, k] = g**2 / (2 * g**2 + activations[:, :, k].sum() * g**3)
        return (alphas * np.maximum(gradients, 0)).sum(axis=(0, 1))
    if method == "LayerCAM":
        return np.maximum(gradients, 0)
    if method == "HiResCAM":
        return gradients
    raise AssertionError(method)


def reference_map(method, activations, gradients):
    cam = np.maximum((activations * reference_weights(method, activations, gradients)).sum(axis=-1), 0)
    assert cam.max() - cam.min() > 1e-6, "this seed leaves the class without evidence; the test needs some"
    return (cam - cam.min()) / (cam.max() - cam.min())


@pytest.mark.parametrize("class_index", [0, 1, 2])
def test_every_method_matches_its_formula_on_finite_difference_gradients(class_index):
    model = two_layer_model()
    image = np.random.default_rng(3).uniform(0, 1, (6, 6, 2)).astype(np.float32)
    result = BaseCAM(model, ["features"], methods=CAM_METHODS.values())(image[None], [class_index])
    assert result.class_indices.tolist() == [class_index]
    assert list(result.maps) == ["Grad-CAM", "Grad-CAM++", "LayerCAM", "HiResCAM"]
    activations, gradients = finite_difference_gradients(model, image, class_index)
    for method, maps in result.maps.items():
        np.testing.assert_allclose(
            maps["features"][0], reference_map(method, activations, gradients), atol=1e-3, err_msg=method
        )


def test_the_methods_give_different_maps_where_gradients_vary_across_the_map():
    model = two_layer_model()
    image = np.random.default_rng(3).uniform(0, 1, (6, 6, 2)).astype(np.float32)
    maps = BaseCAM(model, ["features"], methods=CAM_METHODS.values())(image[None], [1]).maps
    for first, second in itertools.combinations(CAM_METHODS, 2):
        assert np.abs(maps[first]["features"] - maps[second]["features"]).max() > 0.01, (first, second)


def test_each_method_alone_gives_what_it_gives_among_all():
    model = two_layer_model()
    image = np.random.default_rng(4).uniform(0, 1, (2, 6, 6, 2)).astype(np.float32)
    together = BaseCAM(model, ["features", "mixer"], methods=CAM_METHODS.values())(image, [2, 0])
    for name, method in CAM_METHODS.items():
        alone = method(model, ["features", "mixer"])(image, [2, 0])
        assert list(alone.maps) == [name]
        for layer in ("features", "mixer"):
            np.testing.assert_allclose(alone.maps[name][layer], together.maps[name][layer], atol=1e-6)


def test_an_unknown_method_is_refused_with_the_list_of_methods():
    with pytest.raises(ValueError, match="Grad-CAM, Grad-CAM\\+\\+, LayerCAM, HiResCAM"):
        cam_method("ScoreCAM")
    assert cam_method("LayerCAM") is LayerCAM


def test_the_weights_are_the_activations_weighted_by_mean_gradients_by_hand():
    # One 2x2 feature map with two channels, global average pooling, and logits = pooled @ W.
    # d(logit_c)/dA_k(i, j) = W[k, c] / 4, so channel weights are W[:, c] / 4 and
    # cam = ReLU(A_0 * W[0, c] / 4 + A_1 * W[1, c] / 4).
    inputs = keras.Input((2, 2, 2))
    features = keras.layers.Identity(name="features")(inputs)
    logits = keras.layers.Dense(2, use_bias=False, name="logits")(keras.layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    model.get_layer("logits").set_weights([np.array([[2.0, -1.0], [-4.0, 1.0]], np.float32)])
    channel_0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    channel_1 = np.array([[1.0, 0.0], [0.0, 1.0]])
    image = np.stack([channel_0, channel_1], axis=-1)[None].astype(np.float32)

    cam = GradCAM(model, ["features"])(image, [0]).maps["Grad-CAM"]["features"][0]
    # class 0: (2 * A_0 - 4 * A_1) / 4 = [[-0.5, 1], [1.5, 1]] -> ReLU [[0, 1], [1.5, 1]] -> / 1.5
    np.testing.assert_allclose(cam, [[0, 2 / 3], [1, 2 / 3]], atol=1e-6)
    cam = GradCAM(model, ["features"])(image, [1]).maps["Grad-CAM"]["features"][0]
    # class 1: (-A_0 + A_1) / 4 = [[0, -0.5], [-0.75, -0.75]] -> ReLU: all zero -> a zero map, not NaN
    assert np.array_equal(cam, np.zeros((2, 2)))


@pytest.fixture(scope="module")
def patch_finder():
    """A tiny CNN trained here to tell whether a bright 6 x 6 patch lies somewhere on a dim noisy field."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 0.3, (768, 32, 32, 1)).astype(np.float32)
    labels = rng.integers(0, 2, 768)
    for image, label in zip(images, labels):
        if label:
            top, left = rng.integers(0, 27, 2)
            image[top : top + 6, left : left + 6] = 1.0
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="edges")(inputs)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="features")(x)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.GlobalMaxPooling2D()(x))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, epochs=6, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    return model


def field_with_patch(top, left, seed=7):
    image = np.random.default_rng(seed).uniform(0, 0.3, (32, 32, 1)).astype(np.float32)
    image[top : top + 6, left : left + 6] = 1.0
    return image


@pytest.mark.parametrize("top, left", [(3, 4), (22, 20), (5, 24), (24, 2)])
@pytest.mark.parametrize("method", CAM_METHODS)
def test_the_map_peaks_on_the_bright_patch_and_moves_with_it(patch_finder, top, left, method):
    maps = CAM_METHODS[method](patch_finder, ["features"])(field_with_patch(top, left)[None], [1]).maps[method][
        "features"
    ][0]
    peak_row, peak_column = np.unravel_index(np.argmax(maps), maps.shape)
    assert top - 1 <= peak_row <= top + 6 and left - 1 <= peak_column <= left + 6
    inside = maps[top : top + 6, left : left + 6].mean()
    outside = np.delete(
        maps.ravel(), np.ravel_multi_index(np.mgrid[top : top + 6, left : left + 6].reshape(2, -1), maps.shape)
    ).mean()
    assert inside > 5 * outside


def test_several_layers_in_one_pass_equal_one_layer_at_a_time(patch_finder):
    batch = np.stack([field_with_patch(3, 4), field_with_patch(20, 20)])
    together = GradCAM(patch_finder, ["features", "edges"])(batch, [1, 0])
    for name in ("features", "edges"):
        alone = GradCAM(patch_finder, [name])(batch, [1, 0])
        np.testing.assert_allclose(together.maps["Grad-CAM"][name], alone.maps["Grad-CAM"][name], atol=1e-6)
        np.testing.assert_allclose(together.probabilities, alone.probabilities, atol=1e-6)


def test_a_batch_gives_the_same_maps_as_single_images(patch_finder):
    images = [field_with_patch(3, 4), field_with_patch(20, 20), field_with_patch(10, 10)]
    cam = GradCAM(patch_finder, ["features"])
    batched = cam(np.stack(images))
    for index, image in enumerate(images):
        single = cam(image[None])
        np.testing.assert_allclose(
            batched.maps["Grad-CAM"]["features"][index], single.maps["Grad-CAM"]["features"][0], atol=1e-5
        )
        assert batched.class_indices[index] == single.class_indices[0]


def test_probabilities_come_from_the_same_pass_and_match_predict(patch_finder):
    batch = np.stack([field_with_patch(3, 4), np.random.default_rng(1).uniform(0, 0.3, (32, 32, 1)).astype(np.float32)])
    result = GradCAM(patch_finder, ["features"])(batch)
    np.testing.assert_allclose(result.probabilities, patch_finder.predict(batch, verbose=0), atol=1e-5)
    assert result.class_indices.tolist() == result.probabilities.argmax(axis=1).tolist() == [1, 0]


def test_any_class_can_be_explained(patch_finder):
    cam = GradCAM(patch_finder, ["features"])
    image = field_with_patch(3, 4)[None]
    for_patch, for_no_patch = cam(image, [1]), cam(image, [0])
    assert for_patch.class_indices[0] == 1 and for_no_patch.class_indices[0] == 0
    assert not np.allclose(for_patch.maps["Grad-CAM"]["features"], for_no_patch.maps["Grad-CAM"]["features"])


def test_a_flat_image_gives_a_zero_map_not_nan(patch_finder):
    flat = np.full((2, 32, 32, 1), 0.5, np.float32)
    for class_index in (0, 1):
        maps = BaseCAM(patch_finder, ["features", "edges"], methods=CAM_METHODS.values())(flat, [class_index] * 2).maps
        for method_maps in maps.values():
            for layer_map in method_maps.values():
                assert np.array_equal(layer_map, np.zeros_like(layer_map))


def test_unknown_layers_are_named():
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        GradCAM(two_layer_model(), ["features", "conv9"])


def test_normalise_maps_keeps_zero_maps_finite():
    import tensorflow as tf

    maps = normalise_maps(tf.constant([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 3.0], [2.0, 5.0]]]))
    np.testing.assert_allclose(maps.numpy(), [[[0, 0], [0, 0]], [[0, 0.5], [0.25, 1]]])


def test_upsampling_reaches_the_image_size_and_stays_in_range():
    cam = np.array([[0.0, 1.0], [0.5, 0.25]], np.float32)
    big = upsample_map(cam, (40, 30))
    assert big.shape == (30, 40) and big.min() >= 0 and big.max() <= 1
    assert big[0, -1] > 0.9 and big[0, 0] < 0.1


def test_overlay_blends_the_colormap_at_the_chosen_opacity():
    image = Image.new("RGB", (4, 3), (100, 150, 200))
    heat = np.ones((3, 4), np.float32)
    assert np.array_equal(np.asarray(render_overlay(image, heat, opacity=0.0)), np.asarray(image))
    assert np.array_equal(
        np.asarray(render_overlay(image, heat, opacity=1.0)), np.broadcast_to(colormap_lut("jet")[255], (3, 4, 3))
    )
    half = np.asarray(render_overlay(image, heat, opacity=0.5, colormap="gray")).astype(int)
    assert np.abs(half[0, 0] - (np.array([100, 150, 200]) + 255) / 2).max() <= 1


def test_overlay_refuses_bad_arguments():
    image = Image.new("RGB", (4, 3))
    with pytest.raises(ValueError, match="Unknown colormap"):
        render_overlay(image, np.zeros((3, 4)), colormap="rainbow-unicorn")
    with pytest.raises(ValueError, match="between 0 and 1"):
        render_overlay(image, np.zeros((3, 4)), opacity=1.5)
    with pytest.raises(ValueError, match="heatmap is"):
        render_overlay(image, np.zeros((4, 4)))
