#!/usr/bin/python3
"""Full-size random-weight parity data for one humanlike-vits architecture.

    /usr/bin/python3 gen/testdata/parity.py --arch vits14 --out DIR [--batch 2] [--seed 0]
        [--verify] [--numpy-check]

Writes into DIR (names use the architecture id as is, e.g. vith14@448_...):
    <arch>_input.npy                 (batch, 3, S, S) float32, normalised-image-like
    <arch>_pretrained.pth            {'model', 'epoch', 'scaler', 'args'}; model = encoder + a small
                                     MAE decoder (dim 64, 2 blocks); args.model mae_vit_<size>_patch14[_448|_476]
    <arch>_pretrained.expected.npy   (batch, D) class embedding after the final LayerNorm
    <arch>_finetuned.pth             {'model', 'epoch', 'scaler', 'args'}; head.0 BatchNorm1d + head.1
                                     Linear(D, 1000); args.model vit_<size>_patch14[...], args.nb_classes 1000
    <arch>_finetuned.expected.npy    (batch, 1000) logits
    <arch>_<kind>_legacy_f16.pth     with --legacy-f16: the same in the non-zip format with float16
                                     weights, and <arch>_<kind>_legacy_f16.expected.npy
No optimizer state (to keep the files small). Weights are generated in place (no extra copies):
vith14 needs about 2.5 GB for the weights plus a few hundred MB of activations.
--verify reloads each checkpoint with torch.load and checks the output is bit-identical;
--numpy-check also runs the independent float64 numpy forward (slow for the large models).
"""

import argparse
import contextlib
import gc
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_vit import (INIT_PROFILES, VisionTransformer, init_random_, numpy_forward,  # noqa: E402
                           random_input)

# arch: (embed, depth, heads, image, MAE size name, suffix)
ARCHS = {
    'vits14': (384, 12, 6, 224, 'small', ''),
    'vitb14': (768, 12, 12, 224, 'base', ''),
    'vitl14': (1024, 24, 16, 224, 'large', ''),
    'vith14': (1280, 32, 16, 224, 'huge', ''),
    'vith14@448': (1280, 32, 16, 448, 'huge', '_448'),
    'vith14@476': (1280, 32, 16, 476, 'huge', '_476'),
}
PATCH = 14
DEC_DIM, DEC_DEPTH, DEC_HEADS = 64, 2, 2
NUM_CLASSES = 1000


@contextlib.contextmanager
def no_default_init():
    """Skip torch's default (kaiming) initialisation while constructing: init_random_ fills all."""
    saved = []
    for cls in (nn.Linear, nn.Conv2d, nn.LayerNorm, nn.BatchNorm1d):
        saved.append((cls, cls.reset_parameters))
        cls.reset_parameters = lambda self: None
    try:
        yield
    finally:
        for cls, fn in saved:
            cls.reset_parameters = fn


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def __call__(self, what):
        t = time.time()
        print('  %-44s %8.2f s' % (what, t - self.t0), flush=True)
        self.t0 = t


def rss_gb():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float('nan')


def make_args(arch, kind, batch_size):
    D, depth, heads, image, size, suffix = ARCHS[arch]
    common = dict(
        batch_size=batch_size, accum_iter=1, input_size=image, weight_decay=0.05, min_lr=0.0,
        data_path='/vast/eo41/data/SAYCAM', output_dir='./output_dir', log_dir='./output_dir',
        device='cuda', seed=0, resume='', start_epoch=0, num_workers=16, pin_mem=True,
        world_size=8, local_rank=-1, dist_on_itp=False, dist_url='env://', rank=0, gpu=0,
        distributed=True, dist_backend='nccl')
    if kind == 'pretrained':
        return argparse.Namespace(
            model='mae_vit_%s_patch14%s' % (size, suffix), epochs=300, mask_ratio=0.75,
            norm_pix_loss=True, lr=0.0024, blr=0.00015, warmup_epochs=40,
            save_prefix='%s_1.0_1' % arch, **common)
    return argparse.Namespace(
        model='vit_%s_patch14%s' % (size, suffix), epochs=50, drop_path=0.1, clip_grad=None,
        lr=0.0001, blr=None, layer_decay=0.75, warmup_epochs=5, global_pool=False,
        nb_classes=NUM_CLASSES, eval=False, dist_eval=False, finetune='', **common)


def write_legacy_f16(model, ckpt, x, out_dir, arch, kind, tm):
    """The same checkpoint in the older non-zip format with float16 weights, and the fp32
    outputs of the weights it holds (float16 values widened), as the Python loader computes."""
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in ckpt['model'].items()}
    path = os.path.join(out_dir, '%s_%s_legacy_f16.pth' % (arch, kind))
    torch.save(dict(ckpt, model=half), path, _use_new_zipfile_serialization=False)
    tm('%s: legacy float16 save %s (%.1f MB)' % (kind, os.path.basename(path), os.path.getsize(path) / 1e6))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()}, strict=False)
    del half
    with torch.inference_mode():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)
    np.save(os.path.join(out_dir, '%s_%s_legacy_f16.expected.npy' % (arch, kind)), y)
    tm('%s: legacy float16 forward' % kind)


def run_kind(arch, kind, x, out_dir, seed, verify, numpy_check, init, legacy_f16=False):
    D, depth, heads, image, size, suffix = ARCHS[arch]
    tm = Timer()
    with no_default_init():
        model = VisionTransformer(
            embed_dim=D, depth=depth, num_heads=heads, img_size=image, patch_size=PATCH, mlp_ratio=4,
            num_classes=NUM_CLASSES if kind == 'finetuned' else 0,
            decoder_embed_dim=DEC_DIM if kind == 'pretrained' else 0,
            decoder_depth=DEC_DEPTH, decoder_num_heads=DEC_HEADS)
    model.requires_grad_(False)
    tm('%s: construct' % kind)
    init_random_(model, seed * 1000 + (2 if kind == 'pretrained' else 3), profile=init)
    model.eval()
    n_enc = sum(p.numel() for n, p in model.named_parameters()
                if not n.startswith(('decoder', 'mask_token', 'head.')))
    tm('%s: random weights (encoder %.1f M params)' % (kind, n_enc / 1e6))

    with torch.inference_mode():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)
    tm('%s: forward %s -> %s' % (kind, tuple(x.shape), tuple(y.shape)))
    np.save(os.path.join(out_dir, '%s_%s.expected.npy' % (arch, kind)), y)

    args = make_args(arch, kind, batch_size=64)
    ckpt = {
        'model': model.state_dict(),
        'epoch': args.epochs - 1,
        'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                   'growth_interval': 2000, '_growth_tracker': 417},
        'args': args,
    }
    path = os.path.join(out_dir, '%s_%s.pth' % (arch, kind))
    torch.save(ckpt, path)
    tm('%s: torch.save %s (%.1f MB)' % (kind, os.path.basename(path), os.path.getsize(path) / 1e6))

    if numpy_check:
        ref = numpy_forward(ckpt['model'], heads, PATCH, x)
        err = np.abs(y - ref).max() / np.abs(ref).max()
        tm('%s: float64 numpy check, rel err %.2e' % (kind, err))
        assert err < 2e-5, err
    if legacy_f16:  # last: it loads the float16-rounded weights into the model (and ckpt's tensors)
        write_legacy_f16(model, ckpt, x, out_dir, arch, kind, tm)
    del ckpt, model
    gc.collect()

    if verify:
        obj = torch.load(path, map_location='cpu')
        sd = obj['model']
        with no_default_init():
            m2 = VisionTransformer(embed_dim=D, depth=depth, num_heads=heads, img_size=image,
                                   patch_size=PATCH, num_classes=NUM_CLASSES if kind == 'finetuned' else 0)
        missing, unexpected = m2.load_state_dict(sd, strict=False)
        assert not missing, missing
        del obj, sd
        m2.eval()
        with torch.inference_mode():
            y2 = m2(torch.from_numpy(x)).numpy()
        assert np.array_equal(y, y2), np.abs(y - y2).max()
        tm('%s: verify reload (%d unexpected decoder keys), identical' % (kind, len(unexpected)))
        del m2
        gc.collect()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', required=True, choices=sorted(ARCHS))
    ap.add_argument('--out', required=True)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--verify', action='store_true')
    ap.add_argument('--numpy-check', action='store_true')
    ap.add_argument('--kinds', default='pretrained,finetuned')
    ap.add_argument('--legacy-f16', action='store_true',
                    help='also write <arch>_<kind>_legacy_f16.pth (non-zip, float16 weights) and its outputs')
    ap.add_argument('--init', default='std02', choices=INIT_PROFILES,
                    help='weight scales (see reference_vit.init_random_); default std 0.02')
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    D, depth, heads, image, size, suffix = ARCHS[a.arch]
    print('%s: D=%d depth=%d heads=%d image=%d batch=%d seed=%d init=%s' % (a.arch, D, depth, heads, image, a.batch, a.seed, a.init))
    x = random_input((a.batch, 3, image, image), a.seed * 1000 + 1).numpy().astype(np.float32)
    np.save(os.path.join(a.out, '%s_input.npy' % a.arch), x)
    for kind in a.kinds.split(','):
        run_kind(a.arch, kind, x, a.out, a.seed, a.verify, a.numpy_check, a.init, a.legacy_f16)
    print('%s: total %.1f s, peak RSS %.2f GB' % (a.arch, time.time() - t0, rss_gb()))


if __name__ == '__main__':
    main()
