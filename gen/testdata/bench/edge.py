#!/usr/bin/python3
"""make edge: what shipping a model to a device costs, vitc's one file against PyTorch.

Per architecture (random-weight finetuned checkpoints in the hub's layout, PARITY_DIR's when
present), in one run:
  - `vitc build --model CKPT -o FILE` for this machine; the file's size, the program's part;
  - FILE bench --batch 1: the forward time alone (median);
  - RUNS times, alternately: `FILE classify PHOTO` in an empty directory, and
    `torch_ref.py first` (import torch, build the model, torch.load + load_state_dict, the
    photo through test_model.py's transform, one forward pass), each a fresh process: the wall
    time from starting it to its exit with the result (median), and its peak RSS (the
    largest of the runs, from wait4's ru_maxrss);
  - that both give the same top-5.
Writes a Markdown table (--out) and prints it. The page cache is warm for both (each file was
just written or read); a cold start adds the disk's read time to both.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import PYTHON, ROOT, TORCH_REF, VITC_LINE, checkpoint_for, log, machine, median, run  # noqa: E402


TOP_LINE = re.compile(r'^\s+[\d.]+%\s+(n\d{8})\s', re.M)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--archs', default='vits14 vitb14')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--vitc', default=os.path.join(ROOT, 'bin', 'vitc'))
    ap.add_argument('--photo', default=os.path.join(ROOT, 'runtime', 'imageio', 'testdata', 'chelsea_rgb.jpg'))
    ap.add_argument('--parity-dir', default=os.path.join(ROOT, '.parity'))
    ap.add_argument('--work-dir', default='')
    ap.add_argument('--out', default=os.path.join(HERE, 'edge.md'))
    ap.add_argument('--command', default='make edge')
    a = ap.parse_args()
    a.work_dir = a.work_dir or os.path.join(a.parity_dir, 'edge')
    os.makedirs(a.work_dir, exist_ok=True)
    started = datetime.datetime.now().strftime('%Y-%m-%d %H:%M')
    labels = {}
    with open(os.path.join(ROOT, 'runtime', 'labels', 'imagenet_classes.tsv')) as f:
        for line in f:
            i, wnid, _ = line.rstrip('\n').split('\t', 2)
            if i.isdigit():
                labels[wnid] = int(i)
    env = {'GOMAXPROCS': str(a.threads), 'OPENBLAS_NUM_THREADS': str(a.threads)}
    rows = []
    for arch in a.archs.split():
        ckpt = checkpoint_for(a, arch)
        exe = os.path.join(a.work_dir, arch + '-classifier')
        out = run([a.vitc, 'build', '--model', ckpt, '-o', exe], {'VITC_CACHE': os.path.join(a.work_dir, 'cache')})
        sys.stderr.write(out)
        size = os.path.getsize(exe)
        m = re.search(r'\(([\d.]+) MB\) with the weights of .* \(([\d.]+) MB\)', out)
        program_mb, weights_mb = float(m.group(1)), float(m.group(2))
        bench = run([exe, 'bench', '--batch', '1', '--iters', '5'], env)
        sys.stderr.write(bench)
        forward_ms = float(VITC_LINE.search(bench).group(2))
        work = tempfile.mkdtemp(prefix='edge-', dir=a.work_dir)
        shutil.copy(a.photo, os.path.join(work, 'photo.jpg'))
        vt, vr, tt, tr = [], [], [], []
        vtop = ttop = None
        for i in range(a.runs):
            log('%s run %d/%d' % (arch, i + 1, a.runs))
            wall, rss, out = measure([exe, 'classify', os.path.join(work, 'photo.jpg')], env)
            vt.append(wall)
            vr.append(rss)
            vtop = [labels[w] for w in TOP_LINE.findall(out)]
            wall, rss, out = measure([PYTHON, TORCH_REF, 'first', '--arch', arch, '--checkpoint', ckpt,
                                      '--photo', os.path.join(work, 'photo.jpg'), '--threads', str(a.threads)], env)
            tt.append(wall)
            tr.append(rss)
            ttop = json.loads(out.strip().splitlines()[-1])['top5']
        shutil.rmtree(work)
        rows.append({'arch': arch, 'size_mb': size / 1e6, 'program_mb': program_mb, 'weights_mb': weights_mb,
                     'forward_ms': forward_ms, 'vitc_first_ms': median(vt) * 1e3, 'vitc_rss_mb': max(vr) / 1e6,
                     'torch_first_ms': median(tt) * 1e3, 'torch_rss_mb': max(tr) / 1e6,
                     'checkpoint_mb': os.path.getsize(ckpt) / 1e6, 'agree': vtop == ttop, 'vtop': vtop, 'ttop': ttop})
        log(json.dumps(rows[-1]))
    text = render(a, rows, started)
    tmp = a.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, a.out)
    print(text)
    if not all(r['agree'] for r in rows):
        raise SystemExit('vitc and PyTorch disagree on the top-5: ' + json.dumps(rows))


def measure(cmd, env):
    """(wall s, peak RSS bytes, stdout) of one process started now and run to its exit."""
    full_env = dict(os.environ, **env)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError('exit status %d: %s' % (p.returncode, ' '.join(cmd)))
    return wall, ru.ru_maxrss * 1024, out.decode()


def render(a, rows, started):
    lines = ['# One file on a device: vitc build against PyTorch', '',
             'Measured %s by `%s` on %s, %d threads. Each figure is a fresh process classifying one photo '
             '(%s) with a random-weight finetuned checkpoint in the hub\'s layout; time is from starting the process '
             'to its exit with the top-5 (median of %d), RSS the largest peak of those runs (wait4 ru_maxrss). '
             'Page cache warm for both.' % (started, a.command, machine(), a.threads, os.path.basename(a.photo), a.runs),
             '',
             '| model | vitc file | of which program | weights | forward (b1) | vitc start to result | vitc peak RSS | '
             'PyTorch checkpoint | PyTorch start to result | PyTorch peak RSS | same top-5 |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append('| %s | %.1f MB | %.1f MB | %.1f MB | %.0f ms | %.0f ms (forward + %.0f ms) | %.0f MB (weights + %.0f MB) | '
                     '%.1f MB | %.0f ms (%.1fx vitc) | %.0f MB (%.1fx vitc) | %s |' % (
                         r['arch'], r['size_mb'], r['program_mb'], r['weights_mb'], r['forward_ms'],
                         r['vitc_first_ms'], r['vitc_first_ms'] - r['forward_ms'], r['vitc_rss_mb'],
                         r['vitc_rss_mb'] - r['weights_mb'], r['checkpoint_mb'], r['torch_first_ms'],
                         r['torch_first_ms'] / r['vitc_first_ms'], r['torch_rss_mb'], r['torch_rss_mb'] / r['vitc_rss_mb'],
                         'yes' if r['agree'] else 'NO'))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
