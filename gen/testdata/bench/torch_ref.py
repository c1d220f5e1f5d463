#!/usr/bin/python3
"""PyTorch side of `make compare`: the reference model, its ONNX export and its timings.

    /usr/bin/python3 gen/testdata/bench/torch_ref.py checkpoint --arch vits14 --out DIR
        writes DIR/<arch>_finetuned.pth (random weights, parity.py's layout and seed) and prints its path
    /usr/bin/python3 gen/testdata/bench/torch_ref.py prepare --arch vits14 --checkpoint CKPT --batch B
            --input X.npy [--logits Y.npy] [--onnx M.onnx]
        writes the input (reference_vit.random_input, seed 1), PyTorch's logits for it with --logits,
        and with --onnx torch.onnx.export(model, x, M.onnx, opset_version=14) at this fixed batch size
    /usr/bin/python3 gen/testdata/bench/torch_ref.py time --arch vits14 --checkpoint CKPT --batch B
            --iters N [--threads 2] [--input X.npy --logits Y.npy]
        torch.set_num_threads(T), inference_mode, one warm-up then N timed forward passes; prints one
        JSON line {"times_ms": [...], ...}; --logits writes the warm-up pass's output
    /usr/bin/python3 gen/testdata/bench/torch_ref.py first --arch vits14 --checkpoint CKPT --photo IMG
            [--threads 2]
        what a PyTorch user runs to classify one photo: import torch, build the model, torch.load +
        load_state_dict, test_model.py's transform (PIL + torchvision), one forward pass; prints the
        top-5 class indices as one JSON line (make edge times the whole process)
    /usr/bin/python3 gen/testdata/bench/torch_ref.py sgemm [--n 2048] [--iters 10] [--threads T]
        torch.mm on two N x N float32 matrices (OpenBLAS sgemm for Debian's torch); JSON line

Only Debian's torch 1.13 (+ numpy) is needed; the model is gen/testdata/reference_vit.py's.
Thread counts: torch.set_num_threads(T) sets torch's OpenMP pool; Debian's torch calls the
system BLAS (OpenBLAS, pthread build) whose pool is sized by OPENBLAS_NUM_THREADS, which
compare.py sets to T in this process's environment before it starts.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from parity import ARCHS, NUM_CLASSES, PATCH, no_default_init, run_kind  # noqa: E402
from reference_vit import VisionTransformer, random_input  # noqa: E402

INPUT_SEED = 1


def build(arch, checkpoint):
    D, depth, heads, image, _, _ = ARCHS[arch]
    with no_default_init():
        model = VisionTransformer(embed_dim=D, depth=depth, num_heads=heads, img_size=image,
                                  patch_size=PATCH, num_classes=NUM_CLASSES)
    model.requires_grad_(False)
    obj = torch.load(checkpoint, map_location='cpu')
    sd = obj['model'] if isinstance(obj, dict) and 'model' in obj else obj
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing:
        raise SystemExit('%s: missing keys %s (not a finetuned %s checkpoint?)' % (checkpoint, missing[:5], arch))
    del obj, sd
    return model.eval(), image


def cmd_checkpoint(a):
    os.makedirs(a.out, exist_ok=True)
    D, depth, heads, image, _, _ = ARCHS[a.arch]
    x = random_input((2, 3, image, image), 1).numpy().astype(np.float32)  # parity.py's input, seed 0
    # parity.py's finetuned checkpoint exactly (seed 0 -> weights seed 3); its expected output
    # file lands in a.out too and is not used here.
    run_kind(a.arch, 'finetuned', x, a.out, 0, False, False, 'std02')
    print(os.path.join(a.out, '%s_finetuned.pth' % a.arch))


def cmd_prepare(a):
    torch.set_num_threads(a.threads)
    image = ARCHS[a.arch][3]
    x = random_input((a.batch, 3, image, image), INPUT_SEED)
    np.save(a.input, x.numpy().astype(np.float32))
    if a.logits or a.onnx:
        model, _ = build(a.arch, a.checkpoint)
    if a.logits:
        with torch.inference_mode():
            np.save(a.logits, model(x).numpy().astype(np.float32))
    if a.onnx:
        tmp = a.onnx + '.tmp'
        t0 = time.time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            torch.onnx.export(model, x, tmp, opset_version=14, input_names=['x'], output_names=['logits'])
        for w in caught:
            print('torch.onnx.export warning: %s: %s' % (w.category.__name__, str(w.message).splitlines()[0]),
                  file=sys.stderr)
        os.replace(tmp, a.onnx)
        print('exported %s (%.0f MB) in %.1f s' % (a.onnx, os.path.getsize(a.onnx) / 1e6, time.time() - t0),
              file=sys.stderr)


def cmd_time(a):
    torch.set_num_threads(a.threads)
    model, image = build(a.arch, a.checkpoint)
    if a.input:
        x = torch.from_numpy(np.load(a.input))
        assert x.shape == (a.batch, 3, image, image), x.shape
    else:
        x = random_input((a.batch, 3, image, image), INPUT_SEED)
    times = []
    with torch.inference_mode():
        y = model(x)  # warm-up
        for _ in range(a.iters):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    if a.logits:
        np.save(a.logits, y.numpy().astype(np.float32))
    print(json.dumps({'times_ms': times, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'openblas_threads': os.environ.get('OPENBLAS_NUM_THREADS')}))


def cmd_first(a):
    from PIL import Image
    from torchvision import transforms
    torch.set_num_threads(a.threads)
    model, image = build(a.arch, a.checkpoint)
    tf = transforms.Compose([
        transforms.Resize(image + 32, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(image), transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    x = tf(Image.open(a.photo).convert('RGB')).unsqueeze(0)
    with torch.inference_mode():
        y = model(x)[0]
    print(json.dumps({'top5': y.topk(5).indices.tolist()}))


def cmd_sgemm(a):
    torch.set_num_threads(a.threads)
    g = torch.Generator()
    g.manual_seed(0)
    A = torch.randn(a.n, a.n, generator=g)
    B = torch.randn(a.n, a.n, generator=g)
    C = torch.mm(A, B)  # warm-up
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        torch.mm(A, B, out=C)
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({'n': a.n, 'threads': a.threads, 'median_ms': med * 1e3,
                      'gflops': 2.0 * a.n ** 3 / med / 1e9, 'best_gflops': 2.0 * a.n ** 3 / times[0] / 1e9,
                      'openblas_threads': os.environ.get('OPENBLAS_NUM_THREADS')}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('checkpoint')
    p.add_argument('--arch', required=True, choices=sorted(ARCHS))
    p.add_argument('--out', required=True)
    p.set_defaults(fn=cmd_checkpoint)
    for name, fn in (('prepare', cmd_prepare), ('time', cmd_time)):
        p = sub.add_parser(name)
        p.add_argument('--arch', required=True, choices=sorted(ARCHS))
        p.add_argument('--checkpoint', required=True)
        p.add_argument('--batch', type=int, required=True)
        p.add_argument('--threads', type=int, default=2)
        p.add_argument('--input')
        p.add_argument('--logits')
        if name == 'prepare':
            p.add_argument('--onnx')
        else:
            p.add_argument('--iters', type=int, default=5)
        p.set_defaults(fn=fn)
    p = sub.add_parser('first')
    p.add_argument('--arch', required=True, choices=sorted(ARCHS))
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--photo', required=True)
    p.add_argument('--threads', type=int, default=2)
    p.set_defaults(fn=cmd_first)
    p = sub.add_parser('sgemm')
    p.add_argument('--n', type=int, default=2048)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--threads', type=int, default=2)
    p.set_defaults(fn=cmd_sgemm)
    a = ap.parse_args()
    if a.cmd == 'prepare' and not a.input:
        ap.error('prepare needs --input')
    a.fn(a)


if __name__ == '__main__':
    main()
