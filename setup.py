"""Declares the Cython extensions; everything else lives in pyproject.toml.

``RESP3_NO_EXTENSIONS=1`` (or a non-CPython interpreter) builds a pure-Python
package: the runtime then selects ``resp3._reader_py`` automatically.
"""

import os
import platform

from setuptools import setup

ext_modules = []
if os.environ.get("RESP3_NO_EXTENSIONS") != "1" and platform.python_implementation() == "CPython":
    from Cython.Build import cythonize

    ext_modules = cythonize(
        ["resp3/_reader_c.pyx"],
        compiler_directives={"language_level": "3", "embedsignature": True},
    )

setup(ext_modules=ext_modules)
