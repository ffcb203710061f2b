"""The compiled part of LicenseGate (everything else is in pyproject.toml): licensegate._accel, the native knowledge
base's per-binary passes in C. Optional: without a C compiler the build skips it and the pure-Python path runs,
with the same answers (docs/architecture.md)."""

import os

from setuptools import Extension, setup

# gcc/clang flags; another compiler (MSVC) gets its defaults.
_FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"] if os.name == "posix" else []

setup(ext_modules=[Extension("licensegate._accel", ["src/licensegate/_accel.c"], extra_compile_args=_FLAGS,
                             optional=True)])
