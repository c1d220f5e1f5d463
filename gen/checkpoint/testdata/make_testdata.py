#!/usr/bin/python3
"""Writes the .pth fixtures of gen/checkpoint and expected.json, the values the Go tests check.

Run from anywhere with Debian's torch (1.13):  /usr/bin/python3 gen/checkpoint/testdata/make_testdata.py

Seeds are fixed, so the tensor values are the same on every run. The zip files are byte-identical
across runs too (torch writes fixed zip timestamps and numbers storages 0, 1, ...); the legacy files
are not, because torch names their storages after memory addresses, but their values are.

expected.json maps each fixture to what Open must report: format, bare, epoch, extras and, per
tensor, dtype, shape, strides, offset and the float32 bit patterns of its values in row-major order
(bit patterns keep NaN, infinities and -0 exact). Integer tensors carry no values: the reader only
records their metadata. Args are checked in the Go test, where their Go types can be spelled out.
"""

import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


# --- the objects saved --------------------------------------------------------------------------


class Block(torch.nn.Module):
    """A one-block ViT in miniature: the state dict names match MAE's models_vit."""

    def __init__(self, d):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(d, eps=1e-6)
        self.attn = torch.nn.Module()
        self.attn.qkv = torch.nn.Linear(d, 3 * d)
        self.attn.proj = torch.nn.Linear(d, d)
        self.norm2 = torch.nn.LayerNorm(d, eps=1e-6)
        self.mlp = torch.nn.Module()
        self.mlp.fc1 = torch.nn.Linear(d, 4 * d)
        self.mlp.fc2 = torch.nn.Linear(4 * d, d)


class TinyViT(torch.nn.Module):
    def __init__(self, d=8, tokens=5, classes=10):
        super().__init__()
        self.cls_token = torch.nn.Parameter(torch.randn(1, 1, d))
        self.pos_embed = torch.nn.Parameter(torch.randn(1, tokens, d))
        self.patch_embed = torch.nn.Module()
        self.patch_embed.proj = torch.nn.Conv2d(3, d, kernel_size=2, stride=2)
        self.blocks = torch.nn.ModuleList([Block(d)])
        self.norm = torch.nn.LayerNorm(d, eps=1e-6)
        self.head = torch.nn.Sequential(torch.nn.BatchNorm1d(d, affine=False, eps=1e-6),
                                        torch.nn.Linear(d, classes))


def mae_checkpoint():
    torch.manual_seed(1)
    model = TinyViT()
    # One training step, so that BatchNorm's running statistics and num_batches_tracked move and
    # AdamW's state (exp_avg, exp_avg_sq, step) exists, as in a real checkpoint.
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(4, 8)
    loss = model.head(model.norm(x + model.cls_token[0])).square().mean() + \
        model.pos_embed.sum() + sum(p.sum() for p in model.patch_embed.parameters()) + \
        sum(p.sum() for p in model.blocks.parameters())
    loss.backward()
    opt.step()
    model.eval()
    args = argparse.Namespace(
        model='mae_vit_small_patch14', input_size=224, batch_size=256, mask_ratio=0.75,
        norm_pix_loss=True, distributed=False, lr=None, blr=1.5e-4, weight_decay=0.05,
        data_path='/data/say', resume='', local_rank=-1, big=2**40, huge=2**70,
        sizes=[224, 448, 476], mixed=[0.5, 'a', None, True], crop=(224, 224),
        nested={'a': 1, 'b': [2.5]})
    scaler = {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
              'growth_interval': 2000, '_growth_tracker': 17}
    return {'model': model.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 7,
            'scaler': scaler, 'args': args}


def dtypes_state_dict():
    """A bare dict of every dtype and of views: offsets, strides, shared storages."""
    torch.manual_seed(2)
    d = {}
    d['f32'] = torch.randn(3, 4)
    d['f16'] = torch.randn(2, 3).half()
    d['f16_special'] = torch.tensor(
        [0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 3.0e-06,
         float('inf'), float('-inf'), float('nan')], dtype=torch.float16)
    d['bf16'] = torch.randn(5).bfloat16()
    d['bf16_special'] = torch.tensor([1.0, -0.0, 3.0e38, 1e-40, float('inf'), float('nan')],
                                     dtype=torch.bfloat16)
    d['f64'] = torch.randn(2, 2, dtype=torch.float64)
    d['i64'] = torch.arange(6, dtype=torch.int64).reshape(2, 3)
    d['i32'] = torch.arange(3, dtype=torch.int32)
    d['i16'] = torch.arange(3, dtype=torch.int16)
    d['i8'] = torch.arange(3, dtype=torch.int8)
    d['u8'] = torch.arange(3, dtype=torch.uint8)
    d['bool'] = torch.tensor([True, False, True])
    d['c64'] = torch.randn(2, dtype=torch.complex64)
    d['scalar'] = torch.tensor(3.5)
    d['empty'] = torch.zeros(0, 4)
    # A matrix and its transpose share one storage; the transpose has strides (1, 5).
    base = torch.randn(3, 5)
    d['base'] = base
    d['base_t'] = base.t()
    # Only a slice of a larger storage is saved: offset 9, strides (7, 1).
    d['slice'] = torch.randn(6, 7)[1:4, 2:6]
    # Rows and a column of one storage: offsets 0, 6 and 3.
    rows = torch.randn(2, 6)
    d['shared_a'] = rows[0]
    d['shared_b'] = rows[1]
    d['shared_col'] = rows[:, 3]
    d['f16_t'] = torch.randn(4, 3).half().t()
    d['bf16_step'] = torch.randn(9).bfloat16()[1::2]
    d['expanded'] = torch.randn(3, 1).expand(3, 4)
    d['permuted'] = torch.randn(2, 3, 4).permute(2, 0, 1)
    d['param'] = torch.nn.Parameter(torch.randn(2, 2))
    return d


def module_state_dict():
    """A real nn.Module state dict: an OrderedDict with _metadata and an int64 BatchNorm counter."""
    torch.manual_seed(3)
    m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    m.train()
    m(torch.randn(5, 4))
    return m.state_dict()


class FakeTensor:
    """Pickles as a tensor with whatever offset, size and stride it is given, as a corrupt file
    would: torch itself refuses to build such views."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, proto):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False,
                 collections.OrderedDict()))


# --- a hand-written legacy writer, for storage views (torch 1.13 no longer writes them) --------

MAGIC = 0x1950a86a20f9469cfc6c


class StorageView:
    def __init__(self, storage, offset, numel):
        self.storage, self.offset, self.numel = storage, offset, numel


class ViewTensor:
    def __init__(self, view, offset, size, stride):
        self.view, self.offset, self.size, self.stride = view, offset, size, stride

    def __reduce_ex__(self, proto):
        return (torch._utils._rebuild_tensor_v2,
                (self.view, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def save_legacy_with_views(obj, root, filename):
    """Writes obj in the legacy layout with one root storage (key 'root') that every StorageView
    in obj refers to through view_metadata (view_key, offset, numel), as torch < 1.? did."""
    f = io.BytesIO()
    for head in (MAGIC, 1001, {'protocol_version': 1001, 'little_endian': True,
                               'type_sizes': {'short': 2, 'int': 4, 'long': 4}}):
        pickle.dump(head, f, protocol=2)
    views = {}

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, StorageView):
                key = 'view%d' % views.setdefault(id(o), len(views))
                return ('storage', torch.FloatStorage, 'root', 'cpu', root.size(),
                        (key, o.offset, o.numel))
            return None

    Pickler(f, protocol=2).dump(obj)
    pickle.dump(['root'], f, protocol=2)
    f.write(struct.pack('<q', root.size()))
    f.write(struct.pack('<%df' % root.size(), *root.tolist()))
    with open(filename, 'wb') as out:
        out.write(f.getvalue())


# --- expected values ------------------------------------------------------------------------------

FLOATS = {torch.float32: 'float32', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
          torch.float64: 'float64'}
OTHERS = {torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8',
          torch.uint8: 'uint8', torch.bool: 'bool', torch.complex64: 'complex64'}


def describe(t):
    t = t.detach()
    e = {'shape': list(t.shape), 'strides': list(t.stride()), 'offset': t.storage_offset()}
    if t.dtype in FLOATS:
        e['dtype'] = FLOATS[t.dtype]
        flat = t.to(torch.float32).contiguous().reshape(-1)
        e['bits'] = list(struct.unpack('<%dI' % flat.numel(), flat.numpy().tobytes()))
    else:
        e['dtype'] = OTHERS[t.dtype]
    return e


def expect(filename, fmt, bare, epoch, extras):
    """Loads filename back with torch and records what the Go reader must find in it."""
    obj = torch.load(path(filename))
    state = obj if bare else obj['model']
    return {'format': fmt, 'bare': bare, 'epoch': epoch, 'extras': extras,
            'tensors': {k: describe(v) for k, v in state.items() if isinstance(v, torch.Tensor)}}


def format_expected(expected):
    """JSON with one line per tensor: small, and diffs of a regeneration stay readable."""
    compact = lambda v: json.dumps(v, sort_keys=True, separators=(',', ':'))
    out = ['{']
    for i, (fixture, e) in enumerate(sorted(expected.items())):
        out.append(' %s: {' % json.dumps(fixture))
        for k in ('bare', 'epoch', 'extras', 'format'):
            out.append('  %s: %s,' % (json.dumps(k), compact(e[k])))
        out.append('  "tensors": {')
        items = sorted(e['tensors'].items())
        for j, (name, t) in enumerate(items):
            out.append('   %s: %s%s' % (json.dumps(name), compact(t), ',' if j < len(items) - 1 else ''))
        out.append('  }')
        out.append(' }' + (',' if i < len(expected) - 1 else ''))
    out.append('}')
    return '\n'.join(out) + '\n'


def rezip(src, dst, compress_data):
    """Rewrites a torch zip with Python's zipfile: no 64-byte alignment, and optionally every
    entry deflated, as a user's re-packing tool might."""
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), 'w') as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            out.compress_type = zipfile.ZIP_DEFLATED if compress_data else zipfile.ZIP_STORED
            zout.writestr(out, zin.read(info.filename))


def main():
    expected = {}

    mae = mae_checkpoint()
    torch.save(mae, path('mae_zip.pth'))
    torch.save(mae, path('mae_legacy.pth'), _use_new_zipfile_serialization=False)
    for name, fmt in (('mae_zip.pth', 'zip'), ('mae_legacy.pth', 'legacy')):
        expected[name] = expect(name, fmt, False, 7, ['optimizer', 'scaler'])

    dt = dtypes_state_dict()
    torch.save(dt, path('dtypes_zip.pth'))
    torch.save(dt, path('dtypes_legacy.pth'), _use_new_zipfile_serialization=False)
    for name, fmt in (('dtypes_zip.pth', 'zip'), ('dtypes_legacy.pth', 'legacy')):
        expected[name] = expect(name, fmt, True, -1, [])
    rezip('dtypes_zip.pth', 'dtypes_deflated.pth', True)
    expected['dtypes_deflated.pth'] = expect('dtypes_deflated.pth', 'zip', True, -1, [])
    rezip('dtypes_zip.pth', 'dtypes_unaligned.pth', False)
    expected['dtypes_unaligned.pth'] = expect('dtypes_unaligned.pth', 'zip', True, -1, [])

    sd = module_state_dict()
    assert isinstance(sd, collections.OrderedDict)
    torch.save(sd, path('module_zip.pth'))
    torch.save(sd, path('module_legacy.pth'), _use_new_zipfile_serialization=False)
    for name, fmt in (('module_zip.pth', 'zip'), ('module_legacy.pth', 'legacy')):
        expected[name] = expect(name, fmt, True, -1, [])

    # Storage views of the legacy format: two tensors on views of one root storage.
    torch.manual_seed(4)
    root = torch.randn(12).storage()
    save_legacy_with_views({'v1': ViewTensor(StorageView(root, 2, 6), 1, (2, 2), (1, 2)),
                            'v2': ViewTensor(StorageView(root, 8, 4), 0, (4,), (1,))},
                           root, path('views_legacy.pth'))
    expected['views_legacy.pth'] = expect('views_legacy.pth', 'legacy', True, -1, [])

    # Inputs that must be rejected with an error (not a panic): see bad_test.go.
    torch.manual_seed(5)
    torch.save(torch.nn.Parameter(torch.randn(3)), path('bad_parameter_only.pth'))
    four = torch.randn(4).storage()
    past_end = {'ok': torch.randn(2), 'w': FakeTensor(four, 2, (4,), (1,))}
    torch.save(past_end, path('bad_view_past_end_zip.pth'))
    torch.save(past_end, path('bad_view_past_end_legacy.pth'), _use_new_zipfile_serialization=False)
    torch.save({'w': FakeTensor(four, 0, (2**31, 2**31, 2**31), (0, 0, 0))},
               path('bad_huge_numel_zip.pth'))
    torch.save({'w': FakeTensor(four, 3, (4,), (-1,))}, path('bad_negative_stride_zip.pth'))
    # A storage entry shorter than its persistent id says: rewrite data/0 with 4 bytes only.
    with zipfile.ZipFile(path('dtypes_zip.pth')) as zin, \
            zipfile.ZipFile(path('bad_short_storage_zip.pth'), 'w') as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith('/data/0'):
                data = data[:4]
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)

    with open(path('expected.json'), 'w') as f:
        f.write(format_expected(expected))
    total = sum(os.path.getsize(path(n)) for n in os.listdir(HERE))
    print('wrote %d fixtures, %d bytes in testdata' % (len(expected), total), file=sys.stderr)


if __name__ == '__main__':
    main()
