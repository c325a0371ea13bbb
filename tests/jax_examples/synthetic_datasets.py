"""A small synthetic stand-in for JAX's ``examples/datasets.py`` (no download).

``mnist(permute_train=False)`` returns what the real loader returns, in the
same shapes and dtypes: flattened 28x28 images scaled to [0, 1] (float32)
and one-hot labels over 10 classes (float32); only there are few of them
(128 training and 32 test images). Each class is a fixed random pattern of
bright pixels and each image is its class's pattern with noise, so a
classifier can learn the labels and an autoencoder the images in a few steps.
"""

import numpy as np

NUM_TRAIN, NUM_TEST = 128, 32


def _images_and_labels(rng, prototypes, n):
    labels = rng.integers(0, 10, n)
    noise = rng.uniform(0.0, 0.75, (n, 28 * 28))
    images = np.clip(0.25 * prototypes[labels] + noise, 0.0, 1.0).astype(np.float32)
    return images, np.array(labels[:, None] == np.arange(10), np.float32)


def mnist(permute_train=False):
    """Synthetic images and one-hot labels with MNIST's shapes (see the module's note)."""
    rng = np.random.default_rng(0)
    prototypes = (rng.uniform(size=(10, 28 * 28)) < 0.3).astype(np.float64)
    train_images, train_labels = _images_and_labels(rng, prototypes, NUM_TRAIN)
    test_images, test_labels = _images_and_labels(rng, prototypes, NUM_TEST)
    if permute_train:
        perm = np.random.RandomState(0).permutation(train_images.shape[0])
        train_images, train_labels = train_images[perm], train_labels[perm]
    return train_images, train_labels, test_images, test_labels
