#!/usr/bin/python3
"""Regenerates runtime/preprocess/testdata from Debian's Pillow and torchvision.

The Go tests check runtime/preprocess against what these libraries produce: PIL's bicubic
Image.resize byte for byte, and torchvision's evaluation transform (test_model.py) to the float.

Photographs come from Debian packages, decoded here by PIL (the Go side never decodes JPEG):

    apt-get install -y python3-pil python3-numpy python3-torchvision
    cd "$(mktemp -d)" && apt-get download python3-sklearn python-matplotlib-data python3-skimage
    for d in *.deb; do dpkg -x "$d" root; done
    /usr/bin/python3 /path/to/runtime/preprocess/testdata/make.py "$PWD/root"

Outputs, all deterministic (the PNG encoder and gzip with mtime 0 make the same bytes each run):
    <case>.png                 the decoded, cropped RGB input
    <case>.resize-WxH.png      PIL's img.resize((W, H), Image.BICUBIC) (a same-size resize is a
                               copy; cases.json names the input for it)
    <case>.eval-N.npy.gz       torchvision's Compose([Resize(N+32, BICUBIC), CenterCrop(N),
                               ToTensor(), Normalize(mean, std)]) of the input, float32 (3, N, N)
    cases.json                 the list of the above, the versions used, tables of Resize(size)
                               output sizes and CenterCrop(size) results, and hashes of Pillow's
                               fixed-point bicubic weights for many (in, out) sizes
"""

import gzip
import hashlib
import io
import json
import os
import sys

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms
from torchvision.transforms import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

SKLEARN = "usr/lib/python3/dist-packages/sklearn/datasets/images"
MPL = "usr/share/matplotlib/mpl-data/sample_data"
SKIMAGE = "usr/lib/python3/dist-packages/skimage/data"

# (case, source file, crop box (left, top, right, bottom) or None, resize targets, eval sizes)
CASES = [
    # The ImageNet shape: a 500x375 landscape photo. (341, 256) is Resize(256) for input 224;
    # (500, 375) is a same-size resize (a copy of the input, so no file of its own); (4, 3) and
    # (1, 1) downscale by 125 and more.
    ("china_500x375", f"{SKLEARN}/china.jpg", (70, 30, 570, 405), [(341, 256), (500, 375), (4, 3), (1, 1)], [224]),
    # Portrait: Resize(480) for input 448 upscales it to 480x640.
    ("flower_320x427", f"{SKLEARN}/flower.jpg", (160, 0, 480, 427), [(480, 640), (97, 211)], [448]),
    # Resize(508) for input 476 gives 508x588.
    ("grace_hopper_380x440", f"{MPL}/grace_hopper.jpg", (66, 80, 446, 520), [(508, 588), (9, 13), (37, 1)], [476]),
    # One axis at a time, where Pillow skips the other pass; downscale by large, unequal
    # factors; mixed up- and downscale.
    ("coffee_300x200", f"{SKIMAGE}/coffee.png", (150, 100, 450, 300),
     [(300, 97), (300, 211), (123, 200), (317, 200), (13, 7), (60, 199), (301, 50), (128, 128)], []),
    # A small image, upscaled a lot: Resize(256) for input 224 gives 346x256.
    ("chelsea_23x17", f"{SKIMAGE}/chelsea.png", (200, 100, 223, 117), [(346, 256), (5, 50), (23, 40)], [224]),
    # One pixel wide / tall: Resize(256) of a 1x40 column is 256x10240.
    ("astronaut_1x40", f"{SKIMAGE}/astronaut.png", (250, 100, 251, 140), [(1, 100), (3, 40), (1, 7), (2, 2)], [224]),
    ("astronaut_37x1", f"{SKIMAGE}/astronaut.png", (200, 300, 237, 301), [(100, 1), (37, 5), (4, 1)], []),
    ("astronaut_1x1", f"{SKIMAGE}/astronaut.png", (300, 300, 301, 301), [(5, 5), (1, 3)], []),
    # High-contrast edges, where bicubic's negative lobes overshoot and the clipping matters.
    ("motorcycle_200x201", f"{SKIMAGE}/motorcycle_left.png", (350, 150, 550, 351), [(199, 202), (600, 17), (64, 64)], []),
]

# Resize(size) output sizes: (w, h, size), including shapes where size * long / short is close
# to an integer and the truncation matters.
SHORTER = [(w, h, s) for (w, h) in [
    (500, 375), (375, 500), (500, 333), (333, 500), (640, 480), (480, 640), (256, 256), (255, 257),
    (1, 1), (1, 40), (40, 1), (1, 1000), (3000, 7), (7, 3000), (500, 500), (817, 600), (600, 817),
    (4032, 3024), (3024, 4032), (100, 300), (300, 100), (1023, 1024), (1025, 1024), (12, 11),
    (480, 512), (512, 480), (508, 595), (256, 341), (341, 256), (2, 3), (3, 2), (99, 100),
] for s in [1, 7, 224, 256, 480, 508]]

# CenterCrop(size) cases (w, h, size): odd and even differences (round-half-to-even offsets),
# images smaller than the crop in one or both sides, and the evaluation shapes.
CROPS = [
    (10, 10, 4), (11, 10, 4), (10, 11, 5), (11, 11, 4), (7, 9, 5), (8, 8, 8), (3, 5, 8), (4, 12, 8),
    (13, 5, 8), (6, 7, 9), (1, 1, 4), (5, 1, 2), (225, 224, 224), (226, 224, 224), (227, 224, 224),
    (228, 224, 224), (229, 224, 224), (224, 231, 224), (224, 233, 224), (341, 256, 224),
    (256, 341, 224), (480, 640, 448), (508, 595, 476), (256, 10240, 224), (255, 254, 224),
    (257, 258, 224), (2, 9, 5), (9, 2, 6), (100, 3, 101), (3, 100, 101),
]


# Coefficient matrices (in, out): the ImageNet shapes (500x375, 375x500, 500x333, ... to the
# Resize sizes 256, 480 and 508), and a spread of up- and downscales.
def coeff_pairs():
    pairs = set()
    for n in (256, 480, 508):
        for short, long in [(375, 500), (333, 500), (281, 500), (334, 500), (500, 500), (366, 500), (400, 500),
                            (480, 640), (427, 640), (768, 1024) if n != 256 else (300, 451)]:
            pairs.add((short, n))
            pairs.add((long, n * long // short))
    rng = np.random.default_rng(1)
    for _ in range(150):
        a, b = (int(v) for v in rng.integers(1, 700, size=2))
        pairs.add((a, b))
    for a in (1, 2, 3, 7, 640, 799):
        for b in (1, 2, 3, 5, 640, 800):
            pairs.add((a, b))
    return sorted(pairs)


SWEEP_MAX = 1024


def coeff_matrix(n_in, n_out):
    """Pillow's fixed-point bicubic weights for resampling n_in pixels to n_out, as an
    (n_in, n_out) int32 matrix: entry (i, o) is the weight of input pixel i in output pixel o.

    For mode "I" images Pillow keeps the float64 weights and rounds each sum half away from
    zero, the same rounding normalize_coeffs_8bpc applies to weight * 2**22. So resizing an
    n_in x n_in diagonal of 2**22 to n_out x n_in (a horizontal pass only) prints, in row i, the
    8-bit resampler's integer weights of input pixel i, exactly.
    """
    eye = np.eye(n_in, dtype=np.int32) * (1 << 22)
    r = Image.fromarray(eye, "I").resize((n_out, n_in), Image.BICUBIC)
    return np.asarray(r, dtype="<i4")


def hash_coeffs(h, m):
    """Feeds h the non-zero weights of m column by column: for each output pixel, the count,
    then (input pixel, weight) pairs in input order, all as little-endian int32."""
    for o in range(m.shape[1]):
        col = m[:, o]
        nz = np.nonzero(col)[0]
        h.update(np.array([len(nz)], dtype="<i4").tobytes())
        h.update(np.stack([nz, col[nz]], axis=1).astype("<i4").tobytes())


def coord_image(w, h):
    """A w x h image whose pixels encode their own coordinates, so a crop shows where it came from."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x & 255, y & 255, 0x80 | ((x >> 8) & 7) | (((y >> 8) & 7) << 3)], axis=-1)
    return Image.fromarray(a.astype(np.uint8), "RGB")


def save_png(img, path):
    img.save(path, format="PNG", optimize=True)


def save_tensor(t, path):
    buf = io.BytesIO()
    np.save(buf, t.numpy().astype("<f4"), allow_pickle=False)
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as z:
        z.write(buf.getvalue())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    for f in os.listdir(HERE):
        if f.endswith((".png", ".npy.gz")) or f == "cases.json":
            os.remove(os.path.join(HERE, f))

    out = {
        "versions": {"pillow": PIL.__version__, "torchvision": torchvision.__version__,
                     "torch": torch.__version__, "numpy": np.__version__},
        "cases": [], "shorter": [], "crops": [], "coeffs": [], "sweeps": [],
    }
    for name, src, box, resizes, evals in CASES:
        path = os.path.join(root, src)
        img = Image.open(path).convert("RGB")
        if box is not None:
            img = img.crop(box)
        img.load()
        save_png(img, os.path.join(HERE, f"{name}.png"))
        case = {"name": name, "source": src, "box": box, "w": img.width, "h": img.height,
                "resizes": [], "evals": []}
        for w, h in resizes:
            r = img.resize((w, h), Image.BICUBIC)
            if (w, h) == img.size:
                assert r.tobytes() == img.tobytes()
                f = f"{name}.png"
            else:
                f = f"{name}.resize-{w}x{h}.png"
                save_png(r, os.path.join(HERE, f))
            case["resizes"].append({"w": w, "h": h, "file": f})
        for n in evals:
            tf = transforms.Compose([
                transforms.Resize(n + 32, interpolation=transforms.InterpolationMode.BICUBIC),
                transforms.CenterCrop(n),
                transforms.ToTensor(),
                transforms.Normalize(mean=MEAN, std=STD),
            ])
            t = tf(img)
            assert t.dtype == torch.float32 and tuple(t.shape) == (3, n, n), t.shape
            f = f"{name}.eval-{n}.npy.gz"
            save_tensor(t, os.path.join(HERE, f))
            case["evals"].append({"n": n, "file": f})
        out["cases"].append(case)

    for w, h, s in SHORTER:
        nh, nw = F._compute_resized_output_size((h, w), [s])
        out["shorter"].append({"w": w, "h": h, "size": s, "out_w": nw, "out_h": nh})
    # The size rule above is the private helper F.resize uses; check it against the real thing.
    for w, h, s in SHORTER[:40]:
        r = transforms.Resize(s, interpolation=transforms.InterpolationMode.BICUBIC)(Image.new("RGB", (w, h)))
        nh, nw = F._compute_resized_output_size((h, w), [s])
        assert r.size == (nw, nh), (w, h, s, r.size)

    for w, h, s in CROPS:
        c = transforms.CenterCrop(s)(coord_image(w, h))
        assert c.size == (s, s), c.size
        b = np.asarray(c, dtype=np.uint8).tobytes()
        out["crops"].append({"w": w, "h": h, "size": s, "sha256": hashlib.sha256(b).hexdigest(),
                             "top_left": list(c.getpixel((0, 0)))})

    for n_in, n_out in coeff_pairs():
        m = coeff_matrix(n_in, n_out)
        assert m.shape == (n_in, n_out), m.shape
        h = hashlib.sha256()
        hash_coeffs(h, m)
        out["coeffs"].append({"in": n_in, "out": n_out, "sha256": h.hexdigest(), "sum0": int(m[:, 0].sum())})
    # Every input size up to 1024 to the sizes Resize(n + 32) gives the shorter side, one hash each.
    for n_out in (256, 480, 508):
        h = hashlib.sha256()
        for n_in in range(1, SWEEP_MAX + 1):
            hash_coeffs(h, coeff_matrix(n_in, n_out))
        out["sweeps"].append({"out": n_out, "in_max": SWEEP_MAX, "sha256": h.hexdigest()})

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
