"""A stand-in for ``matplotlib.pyplot`` as ``examples/mnist_vae.py`` uses it (``imsave``).

matplotlib is not one of nanojax's dependencies; this saves the image grid
as a NumPy ``.npy`` file next to where the PNG would have gone.
"""

import numpy as np


class _ColorMaps:
    gray = "gray"


cm = _ColorMaps()


def imsave(fname, arr, cmap=None):
    np.save(str(fname) + ".npy", np.asarray(arr))
