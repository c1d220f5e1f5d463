#!/usr/bin/python3
"""Writes the .npy files that runtime/npy's tests read, with NumPy itself.

    /usr/bin/python3 runtime/npy/testdata/make.py

Every <name>.npy is written by NumPy (np.save, or np.lib.format.write_array for the
other format versions). The plain float32 files hold np.arange(n) * 0.5 - 1 in the given
shape, so the test can recompute them. Files that Read must convert or reorder have a
<name>.want.npy beside them: the same array as NumPy converts it, astype('<f4') in C order,
the simplest kind of file, so the test checks vitc's conversion against NumPy's own.
Re-running reproduces the files byte for byte.
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def arange(shape, dtype="<f4"):
    n = int(np.prod(shape, dtype=np.int64))
    return (np.arange(n, dtype=np.float64) * 0.5 - 1).astype(dtype).reshape(shape)


def save(name, a, version=None, want=False):
    with open(path(name + ".npy"), "wb") as f:
        if version is None:
            np.save(f, a, allow_pickle=False)
        else:
            np.lib.format.write_array(f, a, version=version, allow_pickle=False)
    if want:
        with np.errstate(over="ignore"):  # float64 -> float32 overflows to inf, on purpose
            c = np.ascontiguousarray(a).astype("<f4")
        np.save(path(name + ".want.npy"), c, allow_pickle=False)


def main():
    # Plain float32, C order: the test recomputes the values.
    save("f4_1d", arange((5,)))
    save("f4_2d", arange((2, 3)))
    save("f4_4d", arange((2, 3, 4, 5)))
    save("f4_0d", np.array(3.25, dtype="<f4"))
    save("f4_empty", arange((0, 3)))
    save("f4_v2", arange((2, 3)), version=(2, 0))
    save("f4_v3", arange((2, 3)), version=(3, 0))

    # Converted or reordered: the test compares with <name>.want.npy.
    f8 = np.array(
        [0.1, 1 / 3, -2.5, 1e-40, 1e-50, 1e39, -1e39, np.inf, -np.inf, np.nan, -0.0, 3.4028235677973366e38],
        dtype="<f8",
    ).reshape(3, 4)
    save("f8", f8, want=True)
    f2 = np.array(
        [0, -0.0, 1, -2, 0.1, 65504, -65504, 6e-8, 6.1e-5, 1e-7, np.inf, -np.inf, np.nan, 0.333],
        dtype="<f2",
    ).reshape(2, 7)
    save("f2", f2, want=True)
    save("f4_big_endian", arange((3, 4), ">f4"), want=True)
    save("f8_big_endian", arange((4,), ">f8") / 3, want=True)
    save("f2_big_endian", arange((2, 2), ">f2"), want=True)
    save("f4_fortran_2d", np.asfortranarray(arange((3, 4))), want=True)
    save("f4_fortran_3d", np.asfortranarray(arange((2, 3, 4))), want=True)
    save("f8_fortran_big_endian", np.asfortranarray(arange((2, 3), ">f8")), want=True)


if __name__ == "__main__":
    main()
