# SPDX-License-Identifier: MIT
"""vitc: Vision Transformer (ViT) inference in C, from Python.

Bindings (ctypes) over libvitc, which loads Hugging Face ViT checkpoints,
preprocesses images bit for bit like transformers' ViTImageProcessor and runs
the forward pass on the CPU. numpy in and out:

    import vitc
    with vitc.Model("path/to/vit-base-patch16-224-in21k") as model:
        emb = model.embed(["cat.jpg", "dog.png"])          # float32 [2, 768]
        pv = model.preprocess("cat.jpg")                   # float32 [1, 3, 224, 224]
    with vitc.Model("path/to/vit-base-patch16-224") as clf:
        clf.classify("cat.jpg", top_k=3)   # [[("tabby, tabby cat", 0.61), ...]]

A model may also be a Hugging Face repo id ("google/vit-base-patch16-224"),
taken from the hub cache or downloaded into it (vitc.pull fetches ahead).

Images may be paths, directories, .npy files of pixel_values, encoded image
bytes, uint8 HWC RGB arrays or float32 pixel_values arrays, alone or in a
list (directories with recursive=True walk their subdirectories). Outputs
always have the inputs on their first axis; vitc.list_inputs names them.

The library is found through $VITC_LIBRARY, else the copy installed inside
this package, else the system's library path. Failures raise VitcError
subclasses carrying the library's status and message."""

from ._version import __version__
from ._errors import (BackendError, FileError, FormatError, InvalidArgumentError,
                      OutOfMemoryError, SkippedFilesWarning, UnsupportedError, VitcError)
from . import _lib
from ._model import Model, Preprocessor, list_inputs, pull

for _cls in (VitcError, InvalidArgumentError, FileError, FormatError, UnsupportedError,
             OutOfMemoryError, BackendError, SkippedFilesWarning, Model, Preprocessor):
    _cls.__module__ = __name__

library_version = _lib.lib.vitc_version().decode()
"""The version of the loaded libvitc ("MAJOR.MINOR.PATCH")."""

library_path = _lib.lib._name
"""The file libvitc was loaded from."""

__all__ = [
    "Model", "Preprocessor", "list_inputs", "pull", "VitcError", "InvalidArgumentError",
    "FileError", "FormatError", "UnsupportedError", "OutOfMemoryError", "BackendError",
    "SkippedFilesWarning", "__version__", "library_version", "library_path",
]
