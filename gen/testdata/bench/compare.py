#!/usr/bin/python3
"""vitc against ONNX Runtime and PyTorch on the same random-weight finetuned checkpoints.

    make compare [COMPARE_ARCHS="vits14 vitb14"] [COMPARE_BATCHES="1 8"] [COMPARE_ITERS=N] [COMPARE_ROUNDS=R]
    /usr/bin/python3 gen/testdata/bench/compare.py --archs "vits14 vitb14" --batches "1 8"
        [--iters N] [--rounds R] [--threads 2] [--vitc bin/vitc] [--parity-dir .parity] [--work-dir .parity/bench]
        [--out gen/testdata/bench/results.md] [--no-sgemm] [--command "how it was started"]

Per architecture: the checkpoint is <parity-dir>/<arch>_finetuned.pth when `make parity` made it,
else <work-dir>/<arch>_finetuned.pth (written once, parity.py's layout and seed). Per batch size:
an input (torch_ref.py prepare) and the model exported to ONNX at that batch size (cached in
<work-dir> while the checkpoint is unchanged); then, back to back, R rounds (default 3) of
  1. vitc          bin/vitc bench --model CKPT --batch B --iters N      (the best kernel)
  2. vitc, AVX2    the same with VITC_KERNEL=avx2
  3. ONNX Runtime  node ort.mjs (onnxruntime-node, intraOpNumThreads T, graphOptimizationLevel 'all')
  4. ORT, AVX2     the same with AVX-512 hidden from it (noavx512.c, LD_PRELOAD): its AVX2 kernels
and one of
  5. PyTorch       torch_ref.py time (torch.set_num_threads(T), inference_mode)
each after one warm-up pass, median of N timed passes (the upper median for even N, as vitc bench).
A runtime's figure is the median of its rounds' medians: the speed of a virtual machine drifts by
5-15% over minutes, and interleaving the rounds gives each runtime the same share of fast and
slow minutes.
Step 4 runs where the CPU has AVX-512 and can make CPUID fault (cpuid_fault in /proc/cpuinfo) and
gcc builds the library; --no-ort-avx2 skips it. ONNX Runtime has no switch of its own for that, and
without it vitc's AVX2 kernels could only be set against ORT's AVX-512 ones.
Then `vitc run` on the same input; the logits of vitc and ONNX Runtime are compared with PyTorch's
(max|A - torch| / max|torch|). GFLOP/s count each runtime's own work (matrix products and
attention, 2 per multiply-add): gen/arch Config.FLOPs for vitc, whose last block runs on the
class token alone past its keys and values, Config.ModelFLOPs (every token) for the others. Writes a Markdown report to --out and prints it.
T (threads, default 2) is also given to vitc as GOMAXPROCS and to OpenBLAS as OPENBLAS_NUM_THREADS.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
PYTHON = sys.executable
TORCH_REF = os.path.join(HERE, 'torch_ref.py')
ORT_SCRIPT = os.path.join(HERE, 'ort.mjs')

# embed, depth of the hub families (gen/arch/arch.go); patch 14, MLP 4 x embed, image 224 or @size.
FAMILIES = {'vits14': (384, 12), 'vitb14': (768, 12), 'vitl14': (1024, 24), 'vith14': (1280, 32)}
PATCH = 14


def arch_shape(name):
    """Embed, depth, patches per side, tokens and MLP width of a hub architecture."""
    fam, _, size = name.partition('@')
    d, depth = FAMILIES[fam]
    g = (int(size) if size else 224) // PATCH
    return d, depth, g, g * g + 1, 4 * d


def model_flops(name):
    """FLOPs of one image through the encoder as PyTorch (and ONNX Runtime) compute it, as
    gen/arch Config.ModelFLOPs counts them."""
    d, depth, g, t, m = arch_shape(name)
    per_block = 2 * t * d * 3 * d + 2 * t * t * d * 2 + 2 * t * d * d + 2 * t * d * m * 2
    return 2 * g * g * (3 * PATCH * PATCH) * d + depth * per_block


def arch_flops(name):
    """FLOPs of one image as vitc computes it (gen/arch Config.FLOPs): past its keys and
    values, the last block runs on the class token alone, the only row the output reads."""
    d, _, _, t, m = arch_shape(name)
    skipped = 2 * (t - 1) * d * d + 4 * (t - 1) * t * d + 2 * (t - 1) * d * d + 4 * (t - 1) * d * m
    return model_flops(name) - skipped


def log(msg):
    print('[compare %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def run(cmd, env=None, capture=True, stderr=None):
    """Runs cmd; stdout returned (stderr passes through, or is appended to the list stderr).
    Raises on failure."""
    log('$ ' + ' '.join(shlex.quote(c) for c in ([k + '=' + v for k, v in (env or {}).items()] + cmd)))
    full_env = dict(os.environ, **(env or {}))
    r = subprocess.run(cmd, env=full_env, cwd=ROOT, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if stderr is not None else None, text=True)
    if stderr is not None:
        sys.stderr.write(r.stderr)
        stderr.append(r.stderr)
    if r.returncode != 0:
        raise RuntimeError('exit status %d: %s%s' % (r.returncode, ' '.join(cmd),
                                                     ('\n' + r.stdout[-2000:]) if capture and r.stdout else ''))
    return r.stdout if capture else ''


def median(times):
    s = sorted(times)
    return s[len(s) // 2]


def json_line(out):
    for line in reversed(out.strip().splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    raise RuntimeError('no JSON line in output:\n' + out[-2000:])


VITC_HEAD = re.compile(r', kernel (\S+), (\d+) threads, batch (\d+)')
VITC_LINE = re.compile(r'(\d+) batches: median ([\d.]+) ms/batch \(min ([\d.]+), max ([\d.]+)\), ([\d.]+) images/s, ([\d.]+) GFLOP/s')


def bench_vitc(a, ckpt, batch, iters, kernel=None):
    env = {'GOMAXPROCS': str(a.threads), 'VITC_CACHE': os.path.join(a.parity_dir, 'cache')}
    if kernel:
        env['VITC_KERNEL'] = kernel
    out = run([a.vitc, 'bench', '--model', ckpt, '--batch', str(batch), '--iters', str(iters)], env)
    sys.stderr.write(out)
    head, line = VITC_HEAD.search(out), VITC_LINE.search(out)
    if not head or not line:
        raise RuntimeError('cannot parse vitc bench output:\n' + out)
    return {'kernel': head.group(1), 'threads': int(head.group(2)), 'median_ms': float(line.group(2)),
            'min_ms': float(line.group(3)), 'max_ms': float(line.group(4)),
            'vitc_images_s': float(line.group(5)), 'vitc_gflops': float(line.group(6))}


def bench_ort(a, onnx, inp, out_npy, iters, noavx512=None):
    """ORT's timings; with noavx512 (the library's path), with AVX-512 hidden from it."""
    env, err = None, None
    if noavx512:
        env, err = {'LD_PRELOAD': noavx512, 'NOAVX512_REPORT': '1'}, []
    r = json_line(run([a.node, ORT_SCRIPT, '--model', onnx, '--input', inp, '--output', out_npy,
                       '--iters', str(iters), '--threads', str(a.threads)], env, stderr=err))
    if noavx512:
        # The library must have answered the CPUID leaf that holds the AVX-512 bits.
        m = NOAVX512_LINE.search(''.join(err))
        if not m or int(m.group(2)) == 0:
            raise RuntimeError('noavx512 did not report answering CPUID leaf 7: AVX-512 may not have been hidden')
    t = r['times_ms']
    return {'median_ms': median(t), 'min_ms': min(t), 'max_ms': max(t), 'version': r['ort']}


NOAVX512_LINE = re.compile(r'noavx512: answered (\d+) CPUIDs \((\d+) of leaf 7\)')
NOAVX512_SRC = os.path.join(HERE, 'noavx512.c')


def build_noavx512(a):
    """Builds noavx512.so in the work directory, or returns None (and why) where it cannot work."""
    flags = set()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('flags'):
                flags = set(line.split(':', 1)[1].split())
                break
    except OSError:
        pass
    if 'avx512f' not in flags:
        return None, 'the CPU has no AVX-512: ONNX Runtime runs AVX2 anyway'
    if 'cpuid_fault' not in flags:
        return None, 'the CPU (or hypervisor) cannot make CPUID fault (no cpuid_fault in /proc/cpuinfo)'
    so = os.path.join(a.work_dir, 'noavx512.so')
    try:
        run(['gcc', '-O2', '-Wall', '-shared', '-fPIC', '-o', so + '.tmp', NOAVX512_SRC, '-ldl'], capture=False)
    except (RuntimeError, OSError) as e:
        return None, 'gcc could not build %s: %s' % (NOAVX512_SRC, e)
    os.replace(so + '.tmp', so)
    return so, ''


def bench_torch(a, arch, ckpt, batch, inp, out_npy, iters):
    r = json_line(run([PYTHON, TORCH_REF, 'time', '--arch', arch, '--checkpoint', ckpt, '--batch', str(batch),
                       '--iters', str(iters), '--threads', str(a.threads), '--input', inp, '--logits', out_npy],
                      {'OPENBLAS_NUM_THREADS': str(a.threads)}))
    t = r['times_ms']
    return {'median_ms': median(t), 'min_ms': min(t), 'max_ms': max(t), 'version': r['torch']}


def rel_diff(y, ref):
    y, ref = np.load(y).astype(np.float64), np.load(ref).astype(np.float64)
    if y.shape != ref.shape:
        return float('nan')
    return float(np.abs(y - ref).max() / np.abs(ref).max())


def checkpoint_for(a, arch):
    p = os.path.join(a.parity_dir, '%s_finetuned.pth' % arch)
    if os.path.exists(p):
        return p
    p = os.path.join(a.work_dir, '%s_finetuned.pth' % arch)
    if not os.path.exists(p):
        log('%s: no finetuned checkpoint in %s; writing one to %s' % (arch, a.parity_dir, a.work_dir))
        run([PYTHON, TORCH_REF, 'checkpoint', '--arch', arch, '--out', a.work_dir], capture=False)
    return p


def prepare(a, arch, ckpt, batch):
    """Input .npy and the ONNX export at this batch size (re-exported when the checkpoint changed)."""
    base = os.path.join(a.work_dir, '%s_b%d' % (arch, batch))
    inp, onnx, keyf = base + '_input.npy', base + '.onnx', base + '.onnx.key'
    st = os.stat(ckpt)
    key = json.dumps({'checkpoint': os.path.abspath(ckpt), 'size': st.st_size, 'mtime_ns': st.st_mtime_ns,
                      'batch': batch, 'opset': 14})
    fresh = os.path.exists(onnx) and os.path.exists(keyf) and open(keyf).read() == key
    cmd = [PYTHON, TORCH_REF, 'prepare', '--arch', arch, '--checkpoint', ckpt, '--batch', str(batch),
           '--input', inp, '--threads', str(a.threads)]
    if not fresh:
        cmd += ['--onnx', onnx]
    run(cmd, {'OPENBLAS_NUM_THREADS': str(a.threads)}, capture=False)
    if not fresh:
        with open(keyf, 'w') as f:
            f.write(key)
    else:
        log('%s batch %d: reusing %s' % (arch, batch, onnx))
    return inp, onnx


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              cwd=ROOT).stdout.strip()
    except OSError:
        return ''


def machine():
    info = {}
    for line in sh('lscpu').splitlines():
        k, _, v = line.partition(':')
        info[k.strip()] = v.strip()
    flags = set(info.get('Flags', '').split())
    simd = ', '.join(f for f in ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_bf16') if f in flags)
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2/1048576}' /proc/meminfo")
    return ('%s, %s CPU(s) (%s socket(s) x %s core(s) x %s thread(s)), %s; %s; %s' % (
        info.get('Model name', platform.processor()), info.get('CPU(s)', '?'), info.get('Socket(s)', '?'),
        info.get('Core(s) per socket', '?'), info.get('Thread(s) per core', '?'), simd, mem,
        info.get('Hypervisor vendor', 'no hypervisor') + ' guest' if info.get('Hypervisor vendor') else 'bare metal'))


def loadavg():
    try:
        return open('/proc/loadavg').read().split()[:3]
    except OSError:
        return ['?']


def cpu_busy(seconds=3.0):
    """The share of all CPUs' time spent outside idle and iowait over the next seconds (Linux's
    /proc/stat), or None: what else is running right now, unlike the load average, which
    still counts work that ended a minute ago."""
    def sample():
        f = [int(x) for x in open('/proc/stat').readline().split()[1:]]
        return sum(f), f[3] + f[4]
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (i1 - i0) / max(1, t1 - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--archs', default='vits14 vitb14 vitl14')
    ap.add_argument('--batches', default='1 8')
    ap.add_argument('--iters', type=int, default=0, help='timed passes (default 10 for vits14, 5 for larger)')
    ap.add_argument('--rounds', type=int, default=3,
                    help='interleaved rounds of vitc and ONNX Runtime; each reports the median of its rounds')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--vitc', default=os.path.join(ROOT, 'bin', 'vitc'))
    ap.add_argument('--node', default='node')
    ap.add_argument('--parity-dir', default=os.path.join(ROOT, '.parity'))
    ap.add_argument('--work-dir', default='')
    ap.add_argument('--out', default=os.path.join(HERE, 'results.md'))
    ap.add_argument('--no-sgemm', action='store_true')
    ap.add_argument('--no-avx2', action='store_true', help='skip the VITC_KERNEL=avx2 row')
    ap.add_argument('--no-ort-avx2', action='store_true', help='skip ONNX Runtime with AVX-512 hidden')
    ap.add_argument('--command', default='', help='the command that started this, for the report')
    a = ap.parse_args()
    a.vitc = os.path.abspath(a.vitc)
    a.parity_dir = os.path.abspath(a.parity_dir)
    a.work_dir = os.path.abspath(a.work_dir or os.path.join(a.parity_dir, 'bench'))
    os.makedirs(a.work_dir, exist_ok=True)
    archs, batches = a.archs.split(), [int(b) for b in a.batches.split()]
    for arch in archs:
        if arch.partition('@')[0] not in FAMILIES:
            ap.error('unknown architecture %s' % arch)

    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = loadavg()
    busy0 = cpu_busy()
    errors = []
    sgemm = []
    if not a.no_sgemm:
        for t in (1, a.threads) if a.threads != 1 else (1,):
            try:
                r = json_line(run([PYTHON, TORCH_REF, 'sgemm', '--n', '2048', '--iters', '10', '--threads', str(t)],
                                  {'OPENBLAS_NUM_THREADS': str(t)}))
                sgemm.append(r)
            except RuntimeError as e:
                errors.append('sgemm %d threads: %s' % (t, e))

    noavx512, why = (None, 'skipped (--no-ort-avx2)') if a.no_ort_avx2 else build_noavx512(a)
    if not noavx512:
        log('no ONNX Runtime AVX2 row: ' + why)
    a.ort_avx2_note = why

    rows, agree = [], []
    for arch in archs:
        flops, full = arch_flops(arch), model_flops(arch)
        iters = a.iters or (10 if arch.startswith('vits') else 5)
        try:
            ckpt = checkpoint_for(a, arch)
            prepared = {b: prepare(a, arch, ckpt, b) for b in batches}
        except RuntimeError as e:
            errors.append('%s: %s' % (arch, e))
            continue
        for b in batches:
            inp, onnx = prepared[b]
            base = os.path.join(a.work_dir, '%s_b%d' % (arch, b))
            group = []
            steps = [('vitc', lambda: bench_vitc(a, ckpt, b, iters))]
            if not a.no_avx2:
                steps.append(('vitc-avx2', lambda: bench_vitc(a, ckpt, b, iters, kernel='avx2')))
            steps.append(('ort', lambda: bench_ort(a, onnx, inp, base + '_ort.npy', iters)))
            if noavx512:
                steps.append(('ort-avx2', lambda: bench_ort(a, onnx, inp, base + '_ort_avx2.npy', iters, noavx512)))
            rounds = {}  # kind -> one result per round
            for rnd in range(a.rounds):
                for kind, fn in steps:
                    try:
                        r = fn()
                    except RuntimeError as e:
                        errors.append('%s batch %d %s (round %d): %s' % (arch, b, kind, rnd + 1, e))
                        continue
                    rounds.setdefault(kind, []).append(r)
                    log('%s batch %d %s round %d: median %.1f ms/batch' % (arch, b, kind, rnd + 1, r['median_ms']))
            try:
                rounds['torch'] = [bench_torch(a, arch, ckpt, b, inp, base + '_torch.npy', iters)]
            except RuntimeError as e:
                errors.append('%s batch %d torch: %s' % (arch, b, e))
            for kind in [k for k, _ in steps] + ['torch']:
                rs = rounds.get(kind)
                if not rs:
                    continue
                r = dict(rs[0])
                r.update(median_ms=median([x['median_ms'] for x in rs]), min_ms=min(x['min_ms'] for x in rs),
                         max_ms=max(x['max_ms'] for x in rs), round_ms=[x['median_ms'] for x in rs])
                if kind.startswith('vitc'):
                    r['vitc_gflops'] = median([x['vitc_gflops'] for x in rs])
                r.update(kind=kind, arch=arch, batch=b, iters=iters)
                r['images_s'] = b / (r['median_ms'] / 1e3)
                r['gflops'] = (flops if kind.startswith('vitc') else full) * b / (r['median_ms'] / 1e3) / 1e9
                if kind.startswith('vitc'):
                    r['name'] = 'vitc (%s)' % r['kernel']
                    if abs(r['vitc_gflops'] - r['gflops']) > 0.01 * r['gflops'] + 0.1:
                        errors.append('%s: vitc reports %.1f GFLOP/s, this script counts %.1f (FLOP counts differ?)'
                                      % (arch, r['vitc_gflops'], r['gflops']))
                elif kind == 'ort':
                    r['name'] = 'ONNX Runtime %s' % r['version']
                elif kind == 'ort-avx2':
                    r['name'] = 'ONNX Runtime %s, AVX-512 hidden' % r['version']
                else:
                    r['name'] = 'PyTorch %s' % r['version']
                group.append(r)
                log('%s batch %d %s: median %.1f ms/batch, %.2f images/s, %.1f GFLOP/s'
                    % (arch, b, r['name'], r['median_ms'], r['images_s'], r['gflops']))
            ort = [r for r in group if r['kind'] == 'ort']
            ort2 = [r for r in group if r['kind'] == 'ort-avx2']
            for r in group:
                r['vs_ort'] = r['images_s'] / ort[0]['images_s'] if ort else float('nan')
                r['vs_ort_avx2'] = r['images_s'] / ort2[0]['images_s'] if ort2 else float('nan')
            rows += group
            # Same model? vitc's and ORT's logits against PyTorch's, on the same input.
            ref = base + '_torch.npy'
            ag = {'arch': arch, 'batch': b, 'ort': float('nan'), 'ort_avx2': float('nan'), 'vitc': float('nan')}
            if os.path.exists(ref) and any(r['kind'] == 'torch' for r in group):
                if ort:
                    ag['ort'] = rel_diff(base + '_ort.npy', ref)
                if ort2:
                    ag['ort_avx2'] = rel_diff(base + '_ort_avx2.npy', ref)
                try:
                    run([a.vitc, 'run', '--model', ckpt, '--input', inp, '--output', base + '_vitc.npy',
                         '--batch', str(b)], {'GOMAXPROCS': str(a.threads),
                                              'VITC_CACHE': os.path.join(a.parity_dir, 'cache')})
                    ag['vitc'] = rel_diff(base + '_vitc.npy', ref)
                except RuntimeError as e:
                    errors.append('%s batch %d vitc run: %s' % (arch, b, e))
            agree.append(ag)

    finished = datetime.datetime.now(datetime.timezone.utc)
    report = render(a, rows, agree, sgemm, errors, started, finished, load0, loadavg(), busy0)
    with open(a.out, 'w') as f:
        f.write(report)
    with open(os.path.join(a.work_dir, 'results.json'), 'w') as f:
        json.dump({'rows': rows, 'agreement': agree, 'sgemm': sgemm, 'errors': errors}, f, indent=1)
    print(report)
    log('wrote %s' % a.out)
    return 1 if errors else 0


def render(a, rows, agree, sgemm, errors, started, finished, load0, load1, busy0):
    L = []
    L.append('# vitc vs ONNX Runtime vs PyTorch')
    L.append('')
    L.append('- date: %s to %s UTC' % (started.strftime('%Y-%m-%d %H:%M'), finished.strftime('%H:%M')))
    L.append('- machine: %s' % machine())
    L.append('- load average (1, 5, 15 min) at start %s, at end %s; CPU busy in the 3 s before the start: %s'
             % (' '.join(load0), ' '.join(load1), '?' if busy0 is None else '%.0f%%' % (100 * busy0)))
    # Something else running: the CPUs busy just before the start (the load average would also
    # count work that ended a minute ago, and at the end counts the runtimes measured here).
    busy = busy0 is not None and busy0 > 0.25
    if busy:
        L.append('- **other processes were running**: the medians are disturbed (the runtimes that spin-wait, '
                 'ONNX Runtime and PyTorch, the most); the min column is closer to the unloaded speed')
    if a.command:
        L.append('- command: `%s`' % a.command)
    L.append('- driver: `%s`' % ' '.join(shlex.quote(x) for x in
                                          [sys.executable, os.path.relpath(os.path.abspath(__file__), ROOT)]
                                          + sys.argv[1:]))
    head = sh('git rev-parse --short HEAD')
    dirty = ' with uncommitted changes' if sh('git status --porcelain --untracked-files=no') else ''
    L.append('- vitc: commit %s%s, %s; ONNX Runtime: onnxruntime-node %s (node %s); PyTorch %s with %s'
             % (head or '?', dirty, sh('go version').replace('go version ', '') or 'go ?',
                next((r['version'] for r in rows if r['kind'] == 'ort'), '?'), sh(a.node + ' --version'),
                next((r['version'] for r in rows if r['kind'] == 'torch'), '?'),
                'OpenBLAS ' + (sh("dpkg-query -W -f '${Version}' libopenblas0-pthread") or '?')))
    L.append('- threads: %d for each runtime (vitc GOMAXPROCS; ORT intraOpNumThreads %d, interOpNumThreads 1, '
             "graphOptimizationLevel 'all'; torch.set_num_threads(%d) and OPENBLAS_NUM_THREADS=%d). Debian's "
             "torch runs its OpenMP pool (set_num_threads) beside OpenBLAS's own pthread pool, so PyTorch has "
             'up to 2 x %d busy threads, which contend on a machine with %s CPUs'
             % (a.threads, a.threads, a.threads, a.threads, a.threads, os.cpu_count()))
    L.append('- each: one warm-up pass, then the median of N timed passes (N in the table); vitc and ONNX Runtime '
             'in %d interleaved rounds (vitc, vitc AVX2, ORT, ORT with AVX-512 hidden, then again), each row the median of its rounds\' '
             'medians (listed), PyTorch once; all rows of one architecture and batch measured back to back; '
             'ORT model exported with `torch.onnx.export(model, x, opset_version=14)` at that fixed batch size'
             % a.rounds)
    L.append('- GFLOP/s: each runtime\'s FLOPs per image (matrix products + attention, 2 per multiply-add); vitc, whose last block runs on the class token alone past its keys and values: %s'
             % ', '.join('%s %.2f G' % (x, arch_flops(x) / 1e9) for x in dict.fromkeys(r['arch'] for r in rows))
             + '; ONNX Runtime and PyTorch, every token: %s'
             % ', '.join('%s %.2f G' % (x, model_flops(x) / 1e9) for x in dict.fromkeys(r['arch'] for r in rows)))
    L.append('- ORT with AVX-512 hidden: %s' % (
        'gen/testdata/bench/noavx512.c, LD_PRELOAD into node: CPUID faults (arch_prctl ARCH_SET_CPUID) and is '
        'answered without the AVX-512 and AMX bits, so MLAS picks its AVX2 kernels; "vs ORT AVX2" compares with it'
        if not a.ort_avx2_note else 'not measured: ' + a.ort_avx2_note))
    L.append('')
    L.append('| runtime | arch | batch | ms/batch | images/s | GFLOP/s | vs ONNX Runtime | vs ORT AVX2 | N | rounds\' medians ms | min–max ms |')
    L.append('|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        L.append('| %s | %s | %d | %.1f | %.2f | %.1f | %.2fx | %s | %d | %s | %.1f–%.1f |' % (
            r['name'], r['arch'], r['batch'], r['median_ms'], r['images_s'], r['gflops'], r['vs_ort'],
            '–' if r['vs_ort_avx2'] != r['vs_ort_avx2'] else '%.2fx' % r['vs_ort_avx2'], r['iters'],
            ' '.join('%.1f' % x for x in r['round_ms']), r['min_ms'], r['max_ms']))
    if sgemm:
        L.append('')
        L.append('OpenBLAS sgemm reference (torch.mm, 2048 x 2048 x 2048 float32, median of 10):')
        L.append('')
        L.append('| threads | ms | GFLOP/s | best GFLOP/s |')
        L.append('|---|---|---|---|')
        for s in sgemm:
            L.append('| %d | %.1f | %.1f | %.1f |' % (s['threads'], s['median_ms'], s['gflops'], s['best_gflops']))
    if agree:
        L.append('')
        L.append('Same model? max|logits - PyTorch| / max|PyTorch| on the same input:')
        L.append('')
        L.append('| arch | batch | ONNX Runtime | ORT, AVX-512 hidden | vitc |')
        L.append('|---|---|---|---|---|')
        for g in agree:
            L.append('| %s | %d | %.2e | %.2e | %.2e |' % (g['arch'], g['batch'], g['ort'], g['ort_avx2'], g['vitc']))
    if errors:
        L.append('')
        L.append('Errors:')
        L.append('')
        for e in errors:
            L.append('- ' + e.replace('\n', ' ')[:500])
    L.append('')
    return '\n'.join(L)


if __name__ == '__main__':
    sys.exit(main())
