#!/usr/bin/python3
"""make quality: what bf16 and int8 weights cost, per architecture, on real photographs.

For each architecture, the random-weight finetuned checkpoint in the hub's layout (PARITY_DIR's,
or PARITY_DIR/bench's, or one written by torch_ref.py checkpoint; vith14@448 and @476 are the
vith14 checkpoint compiled with --image), `vitc quality --json` on the photographs of
runtime/imageio/testdata that the tests decode (the first --max-images of them in sorted order),
and a Markdown table of top-1/top-5 agreement with float32, the largest and mean logit errors,
the largest error over the image's logit range, speed and size. Writes --out and prints it.
"""

import argparse
import datetime
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import ROOT, log, machine, run  # noqa: E402

PHOTOS = os.path.join(ROOT, 'runtime', 'imageio', 'testdata')


def photos(limit):
    out = []
    for p in sorted(glob.glob(os.path.join(PHOTOS, '*'))):
        name = os.path.basename(p)
        if name.startswith(('bad_', 'unsupported_')) or not name.lower().endswith(('.jpg', '.jpeg', '.png', '.webp')):
            continue
        out.append(p)
    return out[:limit] if limit else out


def checkpoint(a, arch):
    base = arch.split('@')[0]
    for d in (a.parity_dir, os.path.join(a.parity_dir, 'bench'), a.big_dir):
        p = os.path.join(d, '%s_finetuned.pth' % base)
        if os.path.exists(p):
            return p
    raise SystemExit('no finetuned checkpoint of %s in %s, %s/bench or %s: make one with '
                     '/usr/bin/python3 gen/testdata/bench/torch_ref.py checkpoint --arch %s --out DIR' % (
                         base, a.parity_dir, a.parity_dir, a.big_dir, base))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--archs', default='vits14 vitb14 vitl14')
    ap.add_argument('--max-images', type=int, default=0, help='photos per architecture (0: all)')
    ap.add_argument('--h-images', type=int, default=12, help='photos for the H/14 models')
    ap.add_argument('--vitc', default=os.path.join(ROOT, 'bin', 'vitc'))
    ap.add_argument('--parity-dir', default=os.path.join(ROOT, '.parity'))
    ap.add_argument('--big-dir', default=os.path.join(ROOT, '.parity', 'big'))
    ap.add_argument('--out', default=os.path.join(HERE, 'quality.md'))
    ap.add_argument('--command', default='make quality')
    a = ap.parse_args()
    started = datetime.datetime.now().strftime('%Y-%m-%d %H:%M')
    rows = []
    for arch in a.archs.split():
        ckpt = checkpoint(a, arch)
        limit = a.h_images if arch.startswith('vith14') else a.max_images
        cmd = [a.vitc, 'quality', '--model', ckpt, '--json']
        if '@' in arch:
            cmd += ['--image', arch.split('@')[1]]
        cmd += photos(limit)
        log('%s: %d photos' % (arch, len(cmd) - cmd.index('--json') - 1))
        out = run(cmd, {'VITC_CACHE': os.path.join(a.parity_dir, 'cache')})
        for r in json.loads(out):
            r['arch'] = arch
            rows.append(r)
        log(json.dumps(rows[-2:]))
    text = render(a, rows, started)
    tmp = a.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, a.out)
    print(text)


def render(a, rows, started):
    lines = ['# bf16 and int8 against float32, per architecture', '',
             'Measured %s by `%s` on %s. Random-weight finetuned checkpoints in the hub\'s layout '
             '(N(0, 0.02) weights: their logits are nearly flat, so the top classes are closer than a '
             'trained model\'s and agreement is a harsh test), real photographs from runtime/imageio/testdata. '
             '"of range": the largest |logit error| of an image over the range (max − min) of its float32 '
             'logits. Speed: forward passes alone at batch 8, relative to float32 in the same run.' % (
                 started, a.command, machine()), '',
             '| architecture | photos | dtype | top-1 agreement | top-5 agreement | max error of range | '
             'max logit error | mean logit error | min cosine | speed | file |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    ref = {}
    for r in rows:
        if r['dtype'] == 'f32':
            ref[r['arch']] = r
            continue
        f = ref[r['arch']]
        lines.append('| %s | %d | %s | %.2f%% | %.2f%% | %.3f%% | %.3g | %.3g | %.6f | %.2fx | %.1f MB (%.2fx) |' % (
            r['arch'], r['images'], r['dtype'], 100 * r.get('top1_agreement', 0), 100 * r.get('top5_agreement', 0),
            100 * r['max_error_of_range'], r['max_error'], r['mean_error'], r['min_cosine'],
            r['images_per_second'] / f['images_per_second'], r['file_bytes'] / 1e6, r['file_bytes'] / f['file_bytes']))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
