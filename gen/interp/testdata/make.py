#!/usr/bin/python3
"""Writes the reference data for gen/interp's tests.

Run from anywhere with Debian's torch 1.13 (python3-torch):

    /usr/bin/python3 gen/interp/testdata/make.py

For every case it writes, next to this script:

    <name>.in.f32            the input, c*inH*inW little-endian float32 (channel-major, row-major)
    <name>.<cap>.f32         torch.nn.functional.interpolate(x[None], size=(outH, outW),
                             mode='bicubic', align_corners=False)[0] as little-endian float32,
                             computed by ATen's CPU kernel built for capability <cap>
                             (default or avx2)
and cases.txt, one line per case: name c inH inW outH outW.

ATen compiles its CPU kernels once per capability (default, avx2, avx512); the avx2 and
avx512 builds may use fused multiply-adds and the default build cannot, so the same call
gives different last bits on different machines. ATEN_CPU_CAPABILITY picks the build; it
is read when torch first dispatches, so each capability runs in a child process. The
avx512 build is only checked to agree with avx2 (where the CPU has AVX-512), not stored.
The inputs are seeded, so re-running reproduces the files byte for byte.
"""

import os
import subprocess
import sys

# name, c, inH, inW, outH, outW
CASES = [
    ("up3to4", 1, 3, 3, 4, 4),
    ("up16to32", 3, 16, 16, 32, 32),
    ("up16to34", 40, 16, 16, 34, 34),  # vitb14: 224 px (16x16 patches) -> 476 px (34x34)
    ("same16", 2, 16, 16, 16, 16),
    ("down32to16", 4, 32, 32, 16, 16),
    ("nonsquare", 5, 5, 7, 9, 4),  # up in height, down in width
    ("up16to37x23", 1, 16, 16, 37, 23),
    ("tiny1to3", 2, 1, 2, 3, 5),
    ("col7to1x5", 3, 7, 4, 5, 1),  # a single output column; row 2 is a floorf case, as below
    ("row1x1to2x9", 2, 1, 1, 2, 9),  # a 1x1 input
    # Source coordinates just below an integer that round up to it in float32 (1.99999994 at
    # row 1, 2.99999994 at column 5): ATen takes floorf of the float32 value, so the taps
    # start one further and t is a hair below 0 instead of a hair below 1.
    ("edge5to3x7to11", 2, 5, 7, 3, 11),
]

STORED = ["default", "avx2"]
CHECKED = {"avx512": "avx2"}  # capability -> stored capability it must agree with

HERE = os.path.dirname(os.path.abspath(__file__))


def child(cap, same_as=None):
    import numpy as np
    import torch

    torch.set_num_threads(1)
    for name, c, ih, iw, oh, ow in CASES:
        x = np.fromfile(os.path.join(HERE, name + ".in.f32"), dtype="<f4").reshape(1, c, ih, iw)
        y = torch.nn.functional.interpolate(
            torch.from_numpy(x), size=(oh, ow), mode="bicubic", align_corners=False
        )
        assert y.dtype == torch.float32 and tuple(y.shape) == (1, c, oh, ow)
        # The MAE loader hands interpolate a permuted (channels-last) view of pos_embed:
        # pos_embed.reshape(-1, g, g, D).permute(0, 3, 1, 2). ATen then iterates in another
        # order; check that it computes the same bits, so one reference serves both layouts.
        xcl = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
        ycl = torch.nn.functional.interpolate(xcl, size=(oh, ow), mode="bicubic", align_corners=False)
        if not torch.equal(y, ycl.contiguous()):
            sys.exit("%s (%s): channels-last input gives other bits than contiguous input" % (name, cap))
        got = y.numpy().astype("<f4")
        if same_as is None:
            got.tofile(os.path.join(HERE, "%s.%s.f32" % (name, cap)))
            continue
        want = np.fromfile(os.path.join(HERE, "%s.%s.f32" % (name, same_as)), dtype="<f4")
        if got.tobytes() != want.tobytes():
            sys.exit("%s: the %s build differs from the %s build; store it too" % (name, cap, same_as))


def main():
    import numpy as np
    import torch

    rng = np.random.default_rng(20230807)
    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        f.write("# name c inH inW outH outW (written by make.py with torch %s)\n" % torch.__version__)
        for name, c, ih, iw, oh, ow in CASES:
            # pos_embed-like values: small, signed, with an occasional large one.
            x = rng.standard_normal((c, ih, iw)).astype(np.float32) * np.float32(0.02)
            x.flat[0] = np.float32(3.5)
            x.astype("<f4").tofile(os.path.join(HERE, name + ".in.f32"))
            f.write("%s %d %d %d %d %d\n" % (name, c, ih, iw, oh, ow))
    for cap in STORED:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--child", cap], env=env, check=True)
    with open("/proc/cpuinfo") as f:
        has_avx512 = " avx512f " in f.read().replace("\n", " ")
    for cap, same_as in CHECKED.items():
        if not has_avx512:
            print("make.py: no AVX-512 on this CPU; the %s build was not checked" % cap)
            continue
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--child", cap, same_as], env=env, check=True)


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
