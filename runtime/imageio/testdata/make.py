#!/usr/bin/python3
"""Writes the test images of runtime/imageio and, next to each, what PIL gives for it.

For every image NAME.EXT this writes NAME.EXT.want.png: Image.open(NAME.EXT).convert('RGB'),
saved as an 8-bit RGB PNG (lossless, and about half the size of raw pixels). The Go tests
compare vitc's decoding with those pixels. Files named bad_* are broken on purpose; PIL must
fail on them and they get no .want.png. Files named unsupported_* are ones PIL decodes and vitc
refuses with an error (arithmetic-coded JPEG).

The photographs come from Debian packages (bookworm), unpacked without installing them:

    apt-get install -y python3-pil python3-numpy libjpeg-turbo-progs
    apt-get download python3-sklearn python3-skimage
    for f in *.deb; do dpkg -x "$f" /tmp/deb; done
    /usr/bin/python3 make.py --root /tmp/deb

matplotlib's grace_hopper.jpg is read from /usr/share/matplotlib (python-matplotlib-data) when
--root lacks it. The JPEG crops of the original files are lossless (jpegtran -crop), so they
keep their encoders' quantisation and Huffman tables; the other JPEGs are encoded here, by
PIL (libjpeg-turbo) or by cjpeg where PIL cannot make the variant (4:4:0, 4:1:1, RGB,
restart markers, arithmetic coding).

Sources and licences: go_*.jpg come from Go's own image/testdata (BSD); china.jpg and flower.jpg (scikit-learn, CC BY 2.0 / public domain
per its README.txt), grace_hopper.jpg (matplotlib, public domain), chelsea.png, coffee.png,
camera.png, astronaut.png and the small palette PNGs (scikit-image data, public domain / CC0).

To measure vitc on whole files instead (full-size photographs, or a sample of ImageNet):

    /usr/bin/python3 make.py --refs OUTDIR FILE...

copies each FILE to OUTDIR and writes its .want.png there; then
IMAGEIO_PIL_DIR=OUTDIR go test -run TestPILDir -v ./runtime/imageio/ prints the differences.

Debian bookworm: Pillow 9.4.0 with libjpeg-turbo 2.1.5, libwebp 1.2.4, numpy 1.24.2.
"""

import argparse
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SKLEARN = "usr/lib/python3/dist-packages/sklearn/datasets/images"
SKIMAGE = "usr/lib/python3/dist-packages/skimage/data"
MATPLOTLIB = "usr/share/matplotlib/mpl-data/sample_data"


def find(root, sub, name):
    for base in (root, "/"):
        p = os.path.join(base, sub, name)
        if os.path.exists(p):
            return p
    sys.exit(f"make.py: {name} not found under {root}/{sub} or /{sub}; see the docstring")


def write_want(path):
    """Writes PIL's .convert('RGB') of path to path + '.want.png'."""
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    Image.fromarray(rgb, "RGB").save(path + ".want.png", optimize=True)  # no info (tRNS) carried over


def run(*args):
    subprocess.run(args, check=True)


# ---- PNG, written by hand: PIL cannot write every bit depth, tRNS or interlacing ----


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rows(a, depth):
    out = []
    for row in a:
        s = row.reshape(-1)
        if depth == 16:
            b = s.astype(">u2").tobytes()
        elif depth == 8:
            b = s.astype(np.uint8).tobytes()
        else:
            bits = np.unpackbits(s.astype(np.uint8)[:, None], axis=1)[:, 8 - depth :]
            b = np.packbits(bits.reshape(-1)).tobytes()
        out.append(b"\0" + b)  # filter type 0 (None)
    return b"".join(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, a, depth, color_type, plte=None, trns=None, interlace=False):
    if a.ndim == 2:
        a = a[:, :, None]
    h, w = a.shape[:2]
    if interlace:
        raw = b"".join(
            _rows(a[y0::dy, x0::dx], depth)
            for x0, y0, dx, dy in ADAM7
            if a[y0::dy, x0::dx].size
        )
    else:
        raw = _rows(a, depth)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if plte is not None:
        out += _chunk(b"PLTE", np.asarray(plte, np.uint8).tobytes())
    if trns is not None:
        out += _chunk(b"tRNS", trns)
    out += _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


# ---- JPEG surgery ----


def segments(data):
    """Yields (offset, marker, length) of each marker segment before the first SOS."""
    i = 2
    while i + 4 <= len(data):
        assert data[i] == 0xFF, "not at a marker"
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        yield i, marker, length
        if marker == 0xDA:
            return
        i += 2 + length


def drop_adobe(data):
    for off, marker, length in segments(data):
        if marker == 0xEE:
            return data[:off] + data[off + 2 + length :]
    raise ValueError("no APP14 Adobe segment")


def set_adobe_transform(data, transform):
    for off, marker, length in segments(data):
        if marker == 0xEE and data[off + 4 : off + 9] == b"Adobe":
            b = bytearray(data)
            b[off + 4 + 11] = transform
            return bytes(b)
    raise ValueError("no APP14 Adobe segment")


def make_ycck(rgb):
    """A YCCK JPEG: PIL writes a CMYK JPEG whose stored samples (PIL stores 255-C, ...)
    are Y, Cb, Cr and K; setting the Adobe transform to 2 makes decoders convert them."""
    a = np.asarray(rgb.convert("YCbCr")).astype(np.int64)
    k = np.clip(255 - np.asarray(rgb).max(axis=2).astype(np.int64) - 40, 0, 255)
    stored = np.dstack([a[..., 0], a[..., 1], a[..., 2], k])
    cmyk = Image.fromarray((255 - stored).astype(np.uint8), "CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    return set_adobe_transform(buf.getvalue(), 2)


def truncate_after_first_scan(data, keep):
    """Cuts data a few bytes into its first scan."""
    for off, marker, length in segments(data):
        if marker == 0xDA:
            return data[: off + 2 + length + keep]
    raise ValueError("no SOS")


def ramp_alpha(size):
    """Alpha rising from left to right, and 0 on the top rows: transparent pixels keep
    colours underneath, which convert('RGB') must show."""
    w, h = size
    alpha = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))
    alpha[:10] = 0
    return alpha


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="/", help="where the Debian packages were unpacked")
    ap.add_argument("--refs", metavar="OUTDIR", help="write references for FILES into OUTDIR")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.refs:
        os.makedirs(args.refs, exist_ok=True)
        for f in args.files:
            dst = os.path.join(args.refs, os.path.basename(f))
            shutil.copyfile(f, dst)
            try:
                write_want(dst)
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"{f}: PIL fails: {e}", file=sys.stderr)
        return

    print(f"Pillow {PIL.__version__}, numpy {np.__version__}")
    out = HERE
    for f in os.listdir(out):
        if f.endswith((".jpg", ".png", ".webp", ".gif", ".bmp", ".tif", ".bin", ".txt")):
            os.remove(os.path.join(out, f))
    p = lambda name: os.path.join(out, name)  # noqa: E731
    rng = np.random.default_rng(2023)

    china = find(args.root, SKLEARN, "china.jpg")
    flower = find(args.root, SKLEARN, "flower.jpg")
    hopper = find(args.root, MATPLOTLIB, "grace_hopper.jpg")
    chelsea = Image.open(find(args.root, SKIMAGE, "chelsea.png")).convert("RGB")
    coffee = Image.open(find(args.root, SKIMAGE, "coffee.png")).convert("RGB")
    astronaut = Image.open(find(args.root, SKIMAGE, "astronaut.png")).convert("RGB")
    camera = Image.open(find(args.root, SKIMAGE, "camera.png")).convert("L")

    # Odd sizes on purpose: the chroma planes then have a half-covered last column and row.
    cat = chelsea.crop((150, 60, 271, 143))  # 121x83
    cup = coffee.crop((180, 90, 297, 175))  # 117x85
    man = camera.crop((180, 60, 281, 151))  # 101x91
    face = astronaut.crop((170, 60, 275, 159))  # 105x99

    # ---- JPEG: original files, cropped losslessly (their own encoders' tables) ----
    run("jpegtran", "-copy", "none", "-crop", "121x83+248+144", "-outfile", p("china_444.jpg"), china)
    run("jpegtran", "-copy", "none", "-crop", "117x85+304+160", "-outfile", p("flower_444.jpg"), flower)
    run("jpegtran", "-copy", "none", "-crop", "123x87+192+96", "-outfile", p("hopper_420.jpg"), hopper)
    run("jpegtran", "-copy", "none", "-progressive", "-crop", "123x87+192+96",
        "-outfile", p("hopper_420_progressive.jpg"), hopper)

    # ---- JPEG: encoded by PIL ----
    for sub, tag in ((0, "444"), (1, "422"), (2, "420")):
        cat.save(p(f"chelsea_{tag}.jpg"), quality=90, subsampling=sub)
        cup.save(p(f"coffee_{tag}.jpg"), quality=75, subsampling=sub)
    cat.save(p("chelsea_420_progressive.jpg"), quality=90, subsampling=2, progressive=True)
    cat.save(p("chelsea_444_progressive.jpg"), quality=95, subsampling=0, progressive=True)
    cup.save(p("coffee_420_q100.jpg"), quality=100, subsampling=2)
    man.save(p("camera_grey.jpg"), quality=90)
    man.save(p("camera_grey_progressive.jpg"), quality=90, progressive=True)
    # Tiny images: with a chroma plane 1 or 2 samples wide libjpeg replicates instead of
    # interpolating; 1x1 and 2x2 are also all edge.
    for w, h in ((1, 1), (2, 2), (3, 3), (4, 3), (5, 7), (17, 9)):
        for sub, tag in ((1, "422"), (2, "420")):
            face.crop((40, 40, 40 + w, 40 + h)).save(p(f"tiny_{w}x{h}_{tag}.jpg"), quality=90, subsampling=sub)
    # CMYK: PIL stores 255-C etc. and writes an Adobe APP14 segment with transform 0.
    cmyk = face.convert("CMYK")
    ca = np.asarray(cmyk).copy()
    ca[..., 3] = np.clip(255 - np.asarray(face).max(axis=2).astype(int) - 30, 0, 255)  # some black
    cmyk = Image.fromarray(ca, "CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    with open(p("face_cmyk_adobe.jpg"), "wb") as f:
        f.write(buf.getvalue())
    with open(p("face_cmyk_noadobe.jpg"), "wb") as f:
        f.write(drop_adobe(buf.getvalue()))
    cmyk.save(p("face_cmyk_progressive.jpg"), quality=90, progressive=True)
    with open(p("face_ycck.jpg"), "wb") as f:
        f.write(make_ycck(face))

    # ---- JPEG: encoded by cjpeg (what PIL cannot make) ----
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "cat.ppm")
        cat.save(ppm)
        pgm = os.path.join(tmp, "man.pgm")
        man.save(pgm)
        cj = lambda name, *opts, src=ppm: run("cjpeg", "-quality", "90", *opts, "-outfile", p(name), src)  # noqa: E731
        cj("chelsea_440.jpg", "-sample", "1x2")
        cj("chelsea_411.jpg", "-sample", "4x1")
        cj("chelsea_rgb.jpg", "-rgb")
        cj("chelsea_420_restart.jpg", "-sample", "2x2", "-restart", "3B")
        cj("chelsea_420_optimized.jpg", "-sample", "2x2", "-optimize")
        cj("chelsea_420_progressive_cjpeg.jpg", "-sample", "2x2", "-progressive", "-restart", "1")
        cj("unsupported_arithmetic.jpg", "-sample", "2x2", "-arithmetic")
        tinyppm = os.path.join(tmp, "tiny.ppm")
        face.crop((40, 40, 43, 45)).save(tinyppm)
        cj("tiny_3x5_440.jpg", "-sample", "1x2", src=tinyppm)

    # Progressive files whose scans leave some low-frequency coefficients inexact or unsent:
    # libjpeg smooths their blocks (do_block_smoothing), estimating those coefficients, and
    # the DC too when no AC was sent at all.
    incomplete = {
        "progressive_incomplete.jpg": ("chelsea_420.jpg", "0,1,2: 0-0, 0, 1; 0: 1-63, 0, 1; 1: 1-63, 0, 1; 2: 1-63, 0, 1;"),
        "progressive_dc_only.jpg": ("chelsea_420.jpg", "0,1,2: 0-0, 0, 0;"),
        "progressive_dc_only_grey.jpg": ("camera_grey.jpg", "0: 0-0, 0, 0;"),
        "progressive_dc_only_17x9_422.jpg": ("tiny_17x9_422.jpg", "0,1,2: 0-0, 0, 0;"),
        "progressive_mixed_422.jpg": ("coffee_422.jpg", "0,1,2: 0-0, 0, 1; 0: 1-2, 0, 0; 1: 1-63, 0, 2; 2: 1-9, 0, 0; 0,1,2: 0-0, 1, 0;"),
        "progressive_mixed_440.jpg": ("chelsea_440.jpg", "0,1,2: 0-0, 0, 1; 0: 1-2, 0, 0; 1: 1-63, 0, 2; 2: 1-9, 0, 0; 0,1,2: 0-0, 1, 0;"),
        "progressive_last_refined.jpg": ("chelsea_420.jpg", "0,1,2: 0-0, 0, 0; 0: 1-63, 0, 1; 1: 1-63, 0, 1; 2: 1-63, 0, 1; 0: 1-5, 1, 0;"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (src, script) in incomplete.items():
            scans = os.path.join(tmp, "scans.txt")
            with open(scans, "w") as f:
                f.write(script.replace("; ", ";\n") + "\n")
            run("jpegtran", "-scans", scans, "-outfile", p(name), p(src))

    # ---- JPEG: damaged files that libjpeg decodes anyway (with warnings) ----
    with open(p("chelsea_420_restart.jpg"), "rb") as f:
        rst_jpg = f.read()
    rst = [m.start() for m in re.finditer(rb"\xff[\xd0-\xd7]", rst_jpg)]
    damaged = {"damaged_missing_rst.jpg": rst_jpg[: rst[5]] + rst_jpg[rst[5] + 2 :]}
    b = bytearray(rst_jpg)  # two restart markers swapped: libjpeg resynchronises
    b[rst[7] + 1], b[rst[8] + 1] = b[rst[8] + 1], b[rst[7] + 1]
    damaged["damaged_rst_order.jpg"] = bytes(b)
    b = bytearray(rst_jpg)  # garbage in the middle of a restart interval
    k = (rst[10] + rst[11]) // 2
    for i in range(k, k + 6):
        b[i] ^= 0x5A
    damaged["damaged_entropy.jpg"] = bytes(b)
    b = bytearray(rst_jpg)  # a restart marker in the middle of an interval
    k = (rst[12] + rst[13]) // 2
    b[k : k + 2] = b"\xff\xd5"
    damaged["damaged_early_rst.jpg"] = bytes(b)
    damaged["damaged_trailing_garbage.jpg"] = rst_jpg[:-2] + b"\x12\x34\x00\xff\x00" + rst_jpg[-2:]
    with open(p("chelsea_420_progressive.jpg"), "rb") as f:
        prog = f.read()
    sos = [m.start() for m in re.finditer(rb"\xff\xda", prog)]
    b = bytearray(prog)
    for i in range(sos[3] + 40, sos[3] + 44):
        b[i] ^= 0xFF
    damaged["damaged_progressive.jpg"] = bytes(b)
    with open(p("chelsea_420.jpg"), "rb") as f:
        base = f.read()
    damaged["damaged_early_eoi.jpg"] = base[: len(base) * 2 // 3] + b"\xff\xd9"
    # The last scan of an incompletely refined file cut short by a marker: libjpeg smooths
    # the rows after the damage with what it knew before that scan.
    with open(p("progressive_last_refined.jpg"), "rb") as f:
        refined = f.read()
    k = [m.start() for m in re.finditer(rb"\xff\xda", refined)][-1] + 60
    damaged["damaged_progressive_last_scan.jpg"] = refined[:k] + b"\xff\xd3" + refined[k + 2 :]
    for name, data in damaged.items():
        with open(p(name), "wb") as f:
            f.write(data)

    # ---- JPEG: a few of Go's own test files (BSD licence, from GOROOT/src/image/testdata):
    # sampling factors 2x2,1x2,1x2 ("221212"), 4:1:0, DC scans per component, and a
    # progressive file whose later scans are missing (libjpeg smooths it).
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip() or "/usr/local/go"
    for name in ("video-001.221212.jpeg", "video-001.progressive.truncated.jpeg", "video-001.q50.410.progressive.jpeg",
                 "video-001.separate.dc.progression.progressive.jpeg"):
        shutil.copyfile(os.path.join(goroot, "src", "image", "testdata", name), p("go_" + name.replace(".jpeg", ".jpg")))

    # ---- PNG: PIL-written, the common modes ----
    cat.save(p("chelsea_rgb.png"))
    a = np.asarray(cat).copy()
    alpha = ramp_alpha(cat.size)
    Image.fromarray(np.dstack([a, alpha]), "RGBA").save(p("chelsea_rgba.png"))
    man.save(p("camera_l.png"))
    Image.fromarray(np.dstack([np.asarray(man), ramp_alpha(man.size)]), "LA").save(p("camera_la.png"))
    cup.quantize(200).save(p("coffee_p.png"))
    cup.quantize(16).save(p("coffee_p4.png"), bits=4)
    man.convert("1").save(p("camera_1.png"))
    q = cup.quantize(64)
    q.info["transparency"] = 3
    q.save(p("coffee_p_trns_index.png"), transparency=3)
    face.convert("RGBA").quantize(128).save(p("face_p_trns_rgba.png"))
    # ---- PNG: written by hand (bit depths, tRNS and interlacing that PIL does not write) ----
    rgb16 = (np.asarray(cat).astype(np.uint16) * 257) ^ rng.integers(0, 256, (83, 121, 3), dtype=np.uint16)
    write_png(p("chelsea_rgb16.png"), rgb16, 16, 2)
    write_png(p("chelsea_rgba16.png"), np.dstack([rgb16, rng.integers(0, 65536, (83, 121))]), 16, 6)
    write_png(p("chelsea_rgb16_trns.png"), rgb16, 16, 2, trns=struct.pack(">HHH", *rgb16[5, 7]))
    grey16 = np.asarray(man).astype(np.uint16)
    # 16-bit grey opens as mode "I", whose convert('RGB') clips to 255: keep most values
    # below 256 or every pixel would be white.
    grey16 = grey16 + np.where(rng.random(grey16.shape) < 0.2, rng.integers(0, 65536, grey16.shape), 0)
    grey16 = np.minimum(grey16, 65535)
    write_png(p("camera_l16.png"), grey16, 16, 0)
    write_png(p("camera_l16_trns.png"), grey16, 16, 0, trns=struct.pack(">H", int(grey16[0, 0])))
    write_png(p("camera_la16.png"), np.dstack([np.asarray(man).astype(np.uint16) * 257 + 3, grey16]), 16, 4)
    write_png(p("camera_l8_trns.png"), np.asarray(man), 8, 0, trns=struct.pack(">H", int(np.asarray(man)[0, 0])))
    write_png(p("chelsea_rgb8_trns.png"), np.asarray(cat), 8, 2, trns=struct.pack(">HHH", *np.asarray(cat)[0, 0]))
    for depth in (1, 2, 4):
        write_png(p(f"camera_l{depth}.png"), np.asarray(man) >> (8 - depth), depth, 0)
    write_png(p("chelsea_rgb_interlaced.png"), np.asarray(cat), 8, 2, interlace=True)
    write_png(p("chelsea_rgba16_interlaced.png"), np.dstack([rgb16, rgb16[..., :1]]), 16, 6, interlace=True)
    write_png(p("camera_l2_interlaced.png"), np.asarray(man) >> 6, 2, 0, interlace=True)
    pal = rng.integers(0, 256, (256, 3))
    idx = rng.integers(0, 256, (37, 41))
    write_png(p("random_p8_trns.png"), idx, 8, 3, plte=pal, trns=bytes(rng.integers(0, 256, 100).astype(np.uint8)))
    write_png(p("random_p2.png"), idx % 4, 2, 3, plte=pal[:4])
    # Indices past the end of PLTE: PIL shows entry i as grey (i, i, i).
    write_png(p("random_p8_short_plte.png"), idx, 8, 3, plte=pal[:10])
    write_png(p("random_p4_short_plte.png"), idx % 16, 4, 3, plte=pal[:5], interlace=True)
    for name in ("palette_color.png", "palette_gray.png", "foo3x5x4indexed.png", "checker_bilevel.png",
                 "green_palette.png"):
        shutil.copyfile(find(args.root, SKIMAGE, name), p("skimage_" + name))

    # ---- WebP ----
    cat.save(p("chelsea_lossy.webp"), quality=80)
    cat.save(p("chelsea_lossless.webp"), lossless=True)
    rgba = Image.fromarray(np.dstack([a, alpha]), "RGBA")
    rgba.save(p("chelsea_lossy_alpha.webp"), quality=80)
    rgba.save(p("chelsea_lossless_alpha.webp"), lossless=True, exact=True)
    cup.crop((0, 0, 116, 84)).save(p("coffee_lossy_even.webp"), quality=90)
    face.crop((0, 0, 1, 1)).save(p("tiny_1x1_lossy.webp"), quality=80)
    face.crop((0, 0, 3, 5)).save(p("tiny_3x5_lossy.webp"), quality=80)
    face.crop((0, 0, 4, 2)).save(p("tiny_4x2_lossy.webp"), quality=80)

    # ---- GIF, BMP, TIFF (nice to have) ----
    cup.quantize(100).save(p("coffee.gif"))
    # The transparent index keeps its colour in convert('RGB').
    cup.quantize(100).save(p("coffee_trns.gif"), transparency=int(np.asarray(cup.quantize(100))[40, 60]))
    cat.save(p("chelsea.bmp"))
    cup.quantize(100).save(p("coffee_p.bmp"))
    cat.save(p("chelsea.tif"))
    cat.save(p("chelsea_lzw.tif"), compression="tiff_lzw")

    # ---- broken on purpose: PIL must fail on each ----
    with open(p("chelsea_420.jpg"), "rb") as f:
        jpg = f.read()
    with open(p("chelsea_rgb.png"), "rb") as f:
        png = f.read()
    with open(p("chelsea_lossy.webp"), "rb") as f:
        webp = f.read()
    shutil.copyfile(find(args.root, SKIMAGE, "truncated.jpg"), p("bad_skimage_truncated.jpg"))
    broken = {
        "bad_truncated_header.jpg": jpg[:100],
        "bad_truncated_scan.jpg": truncate_after_first_scan(jpg, 500),
        "bad_truncated.png": png[: len(png) // 2],
        "bad_chunk_type.png": png[:40] + bytes([png[40] ^ 0xFF]) + png[41:],
        "bad_idat_crc.png": png[:-20] + bytes([png[-20] ^ 0xFF]) + png[-19:],
        "bad_idat_data.png": png[:300] + bytes(64) + png[364:],
        "bad_truncated.webp": webp[: len(webp) // 2],
        "bad_empty.jpg": b"",
        "bad_text.txt": b"this is not an image\n",
        "bad_zero_size.png": png[:16] + b"\0\0\0\0" + png[20:],
    }
    for name, data in broken.items():
        with open(p(name), "wb") as f:
            f.write(data)

    # ---- references ----
    names = sorted(os.listdir(out))
    for name in names:
        if name.endswith((".py", ".want.png")):
            continue
        path = p(name)
        if name.startswith("bad_"):
            try:
                with Image.open(path) as im:
                    im.convert("RGB")
            except Exception as e:  # noqa: BLE001 - any failure is what we want
                print(f"{name}: PIL fails as it should: {type(e).__name__}: {e}")
                continue
            sys.exit(f"{name}: PIL decodes it, but it should be broken")
        write_want(path)
    total = sum(os.path.getsize(p(n)) for n in os.listdir(out))
    print(f"{len(os.listdir(out))} files, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
