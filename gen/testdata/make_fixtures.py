#!/usr/bin/python3
"""Generate the small checkpoint fixtures of vitc into gen/testdata/fixtures/.

    /usr/bin/python3 gen/testdata/make_fixtures.py [--out gen/testdata/fixtures]

Deterministic (fixed seeds, one thread). Uses only torch + numpy and reference_vit.py (our own
ViT). Every expected output is computed by loading the written checkpoint back with torch.load,
converting its weights to float32 and running the fp32 reference model; it is also cross-checked
against an independent float64 numpy forward pass.
"""

import argparse
import collections
import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_vit import (VisionTransformer, init_random_, interpolate_pos_embed,  # noqa: E402
                           numpy_forward, random_input)

CONFIGS = {
    # name: encoder config + (tiny) MAE decoder used for the pretrained files
    'tiny': dict(name='tiny', embed=32, depth=2, heads=2, image=42, patch=14, mlp=128, classes=1000,
                 dec_dim=16, dec_depth=1, dec_heads=2),
    'odd': dict(name='odd', embed=24, depth=3, heads=3, image=56, patch=14, mlp=96, classes=17,
                dec_dim=16, dec_depth=1, dec_heads=2),
}

INPUTS = {
    # file: (shape, seed)
    'tiny_input.npy': ((2, 3, 42, 42), 1001),
    'tiny_input56.npy': ((2, 3, 56, 56), 1002),
    'odd_input.npy': ((2, 3, 56, 56), 1003),
}
# 'fanin' weights (std 1/sqrt(fan_in)) and tokens N(0, 0.5): with std 0.02 at D=32 the attention is
# almost uniform and e.g. tanh-GELU or a wrong attention scale would hide below 2e-5.
INIT_PROFILE = 'fanin'
CONFIG_INPUT = {'tiny': 'tiny_input.npy', 'odd': 'odd_input.npy'}

# (config, kind, format, dtype, bare, top-level keys of the wrapper dict)
FULL = ('model', 'optimizer', 'epoch', 'scaler', 'args')
NO_OPT = ('model', 'epoch', 'scaler', 'args')   # e.g. an optimizer-stripped release
MINIMAL = ('model', 'epoch', 'args')
# The optimizer (fp32, twice the trainable size) dominates the file sizes, so some files leave
# it out: "do not assume the extras are there" is tested at the same time.
CHECKPOINTS = [
    ('tiny', 'pretrained', 'zip', 'float32', False, FULL),
    ('tiny', 'pretrained', 'legacy', 'float32', False, FULL),
    ('tiny', 'pretrained', 'zip', 'float16', False, NO_OPT),
    ('tiny', 'pretrained', 'zip', 'bfloat16', False, MINIMAL),
    ('tiny', 'finetuned', 'zip', 'float32', False, FULL),
    ('tiny', 'finetuned', 'legacy', 'float16', False, FULL),
    ('tiny', 'finetuned', 'zip', 'bfloat16', False, FULL),
    ('tiny', 'finetuned', 'zip', 'float32', True, None),   # tiny_finetuned_bare_views.pth
    ('odd', 'finetuned', 'zip', 'float32', False, FULL),
    ('odd', 'pretrained', 'legacy', 'float32', False, NO_OPT),
    ('odd', 'finetuned', 'legacy', 'float16', False, FULL),
]
# resized evaluations: checkpoint file -> list of (image, input file)
RESIZED = {'tiny_finetuned_zip_f32.pth': [(56, 'tiny_input56.npy')]}

DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}
SHORT = {'float32': 'f32', 'float16': 'f16', 'bfloat16': 'bf16'}
SEEDS = {('tiny', 'pretrained'): 11, ('tiny', 'finetuned'): 12,
         ('odd', 'pretrained'): 21, ('odd', 'finetuned'): 22}
DECODER_PREFIXES = ('mask_token', 'decoder_pos_embed', 'decoder_embed.', 'decoder_blocks.',
                    'decoder_norm.', 'decoder_pred.')


def file_name(cfg, kind, fmt, dtype, bare):
    if bare:
        return '%s_%s_bare_views.pth' % (cfg, kind)
    return '%s_%s_%s_%s.pth' % (cfg, kind, fmt, SHORT[dtype])


def build_model(c, kind, image=None, with_decoder=False):
    return VisionTransformer(
        embed_dim=c['embed'], depth=c['depth'], num_heads=c['heads'],
        img_size=image or c['image'], patch_size=c['patch'], mlp_ratio=c['mlp'] / c['embed'],
        num_classes=c['classes'] if kind == 'finetuned' else 0,
        decoder_embed_dim=c['dec_dim'] if with_decoder else 0,
        decoder_depth=c['dec_depth'], decoder_num_heads=c['dec_heads'])


def mae_args(c, kind):
    """argparse.Namespace with the fields MAE's main_pretrain / main_finetune record."""
    common = dict(
        batch_size=256, accum_iter=1, input_size=c['image'], weight_decay=0.05,
        min_lr=0.0, data_path='/vast/eo41/data/SAYCAM', output_dir='./output_dir',
        log_dir='./output_dir', device='cuda', seed=0, resume='', start_epoch=0, num_workers=16,
        pin_mem=True, world_size=8, local_rank=-1, dist_on_itp=False, dist_url='env://',
        rank=0, gpu=0, distributed=True, dist_backend='nccl')
    if kind == 'pretrained':
        return argparse.Namespace(
            model='mae_vit_%s_patch14' % c['name'], epochs=300, mask_ratio=0.75,
            norm_pix_loss=True, lr=0.0024, blr=0.00015, warmup_epochs=40, save_prefix=c['name'],
            **common)
    return argparse.Namespace(
        model='vit_%s_patch14' % c['name'], epochs=50, drop_path=0.1, clip_grad=None, lr=0.0001,
        blr=None, layer_decay=0.75, warmup_epochs=5, color_jitter=None, aa='rand-m9-mstd0.5-inc1',
        smoothing=0.1, reprob=0.25, remode='pixel', recount=1, resplit=False, mixup=0.0, cutmix=0.0,
        cutmix_minmax=None, mixup_prob=1.0, mixup_switch_prob=0.5, mixup_mode='batch',
        finetune='', global_pool=False, nb_classes=c['classes'], eval=False, dist_eval=False,
        **common)


def param_groups(model, weight_decay):
    """MAE's optim_factory.add_weight_decay: 1-D params, biases and tokens get no decay."""
    decay, no_decay = [], []
    skip = {'pos_embed', 'cls_token', 'mask_token', 'decoder_pos_embed'}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim == 1 or name.endswith('.bias') or name in skip:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{'params': no_decay, 'weight_decay': 0.0}, {'params': decay, 'weight_decay': weight_decay}]


def make_checkpoint(c, kind):
    """One fp32 training checkpoint dict after one real AdamW step."""
    seed = SEEDS[(c['name'], kind)]
    torch.manual_seed(seed)
    model = build_model(c, kind, with_decoder=(kind == 'pretrained'))
    init_random_(model, seed, profile=INIT_PROFILE)
    args = mae_args(c, kind)
    if kind == 'pretrained':
        # MAE keeps the sin-cos position embeddings fixed during pretraining.
        model.pos_embed.requires_grad_(False)
        model.decoder_pos_embed.requires_grad_(False)
    if kind == 'pretrained':
        # MAE main_pretrain: AdamW over every trainable parameter (encoder + decoder).
        scope = 'all trainable parameters (MAE pretraining; pos_embed/decoder_pos_embed frozen)'
        opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.95))
    else:
        # MAE main_linprobe style (the BatchNorm1d(affine=False)+Linear head is its construct):
        # only the head is optimised. Keeps the fixtures small; the structure is the same.
        scope = 'head parameters only (MAE linprobe style)'
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith('head.'))
        opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999))
    g = torch.Generator()
    g.manual_seed(seed + 500)
    x = torch.randn(4, 3, c['image'], c['image'], generator=g)
    model.train()
    if kind == 'pretrained':
        loss = model.mae_loss(x, mask_ratio=args.mask_ratio, generator=g, norm_pix_loss=True)
    else:
        model.head[0].eval()  # keep the BatchNorm running statistics as initialised
        labels = torch.randint(0, c['classes'], (4,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    scaler = {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
              'growth_interval': 2000, '_growth_tracker': 417}
    return {
        'model': model.state_dict(),
        'optimizer': opt.state_dict(),
        'epoch': args.epochs - 1,
        'scaler': scaler,
        'args': args,
        'optimizer_scope': scope,
    }


def convert_state_dict(sd, dtype):
    """model.half() / model.bfloat16(): floating tensors only (num_batches_tracked stays int64)."""
    out = collections.OrderedDict()
    for k, v in sd.items():
        out[k] = v.to(DTYPES[dtype]) if v.is_floating_point() else v
    meta = getattr(sd, '_metadata', None)
    if meta is not None:
        out._metadata = copy.deepcopy(meta)
    return out


def make_views_state_dict(sd):
    """A float32 bare state dict with the same values as `sd`, where several tensors are views."""
    out = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
    views = {}
    # 1. transposed (non-contiguous) view
    w = sd['blocks.0.attn.qkv.weight']
    base = w.t().contiguous()                        # (in, out) storage
    out['blocks.0.attn.qkv.weight'] = base.t()       # (out, in), strides (1, out)
    views['blocks.0.attn.qkv.weight'] = 'transposed view: shape %s strides %s' % (
        list(out['blocks.0.attn.qkv.weight'].shape), list(out['blocks.0.attn.qkv.weight'].stride()))
    # 2. cls_token and pos_embed: slices of one shared storage, both at non-zero offsets
    cls, pos = sd['cls_token'], sd['pos_embed']
    shared = torch.full((5 + cls.numel() + 3 + pos.numel() + 4,), -7.0)
    off_pos = 5
    off_cls = 5 + pos.numel() + 3
    shared[off_pos:off_pos + pos.numel()] = pos.reshape(-1)
    shared[off_cls:off_cls + cls.numel()] = cls.reshape(-1)
    out['cls_token'] = shared[off_cls:off_cls + cls.numel()].view(cls.shape)
    out['pos_embed'] = shared[off_pos:off_pos + pos.numel()].view(pos.shape)
    views['cls_token'] = 'shares storage with pos_embed, storage_offset %d' % off_cls
    views['pos_embed'] = 'shares storage with cls_token, storage_offset %d' % off_pos
    # 3. a Linear bias as a strided slice (offset 1, stride 2)
    b = sd['blocks.1.mlp.fc1.bias']
    buf = torch.full((2 * b.numel() + 1,), 3.0)
    buf[1::2] = b
    out['blocks.1.mlp.fc1.bias'] = buf[1::2]
    views['blocks.1.mlp.fc1.bias'] = 'strided slice: storage_offset 1, stride 2'
    # 4. the head weight as contiguous rows of a larger storage (offset 2 rows)
    hw = sd['head.1.weight']
    big = torch.zeros(hw.shape[0] + 3, hw.shape[1])
    big[2:2 + hw.shape[0]] = hw
    out['head.1.weight'] = big[2:2 + hw.shape[0]]
    views['head.1.weight'] = 'row slice of a larger storage, storage_offset %d' % (2 * hw.shape[1])
    # 5. an nn.Parameter (pickled through torch._utils._rebuild_parameter)
    out['norm.weight'] = torch.nn.Parameter(sd['norm.weight'].clone(), requires_grad=True)
    views['norm.weight'] = 'torch.nn.Parameter (requires_grad=True)'
    meta = getattr(sd, '_metadata', None)
    if meta is not None:
        out._metadata = copy.deepcopy(meta)
    for k in out:
        assert torch.equal(out[k], sd[k]), k
    return out, views


def same_content(a, b):
    """Deep equality of two loaded checkpoint objects (tensors: dtype, shape, strides, values)."""
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    if isinstance(a, torch.Tensor):
        return (a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
                and torch.equal(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same_content(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_content(x, y) for x, y in zip(a, b))
    if isinstance(a, argparse.Namespace):
        return vars(a) == vars(b)
    return a == b


def load_model_state(path):
    obj = torch.load(path, map_location='cpu')
    wrapper = isinstance(obj, dict) and 'model' in obj and isinstance(obj['model'], dict)
    sd = obj['model'] if wrapper else obj
    sd = collections.OrderedDict(
        (k, (v.detach().float() if v.is_floating_point() else v)) for k, v in sd.items())
    return sd, wrapper


def evaluate(sd, c, kind, x, image=None):
    """Run the fp32 reference on a state dict; returns (output, unexpected keys)."""
    model = build_model(c, kind, image=image)
    sd = collections.OrderedDict(sd)
    if image is not None and image != c['image']:
        sd['pos_embed'] = interpolate_pos_embed(sd['pos_embed'], image // c['patch'])
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not missing, missing
    for k in unexpected:
        assert k.startswith(DECODER_PREFIXES), k
    model.eval()
    with torch.inference_mode():
        y = model(torch.from_numpy(x)).float().numpy()
    # cross-check with the independent float64 numpy implementation
    ref = numpy_forward(sd, c['heads'], c['patch'], x)
    err = np.abs(y - ref).max() / np.abs(ref).max()
    assert err < 2e-5, ('numpy cross-check failed', err)
    return y, unexpected, err


def write_bad(out):
    """Checkpoints that must be refused with a clear message (fixtures/bad/)."""
    bad = os.path.join(out, 'bad')
    os.makedirs(bad, exist_ok=True)
    sd, _ = load_model_state(os.path.join(out, file_name('tiny', 'finetuned', 'zip', 'float32', False)))
    # Two encoder tensors missing and one of the wrong shape: all three must be listed.
    broken = collections.OrderedDict((k, v) for k, v in sd.items()
                                     if k not in ('blocks.1.attn.qkv.weight', 'blocks.0.mlp.fc1.bias'))
    broken['norm.weight'] = torch.ones(33)
    torch.save(broken, os.path.join(bad, 'tiny_missing_and_misshaped.pth'))
    # args.model names ViT-S/14 but the tensors are tiny's.
    torch.save({'model': sd, 'epoch': 1,
                'args': argparse.Namespace(model='vit_small_patch14', input_size=224, nb_classes=1000)},
               os.path.join(bad, 'tiny_args_mismatch.pth'))
    # Not a ViT at all.
    torch.manual_seed(0)
    torch.save(collections.OrderedDict([('conv1.weight', torch.randn(8, 3, 7, 7)), ('fc.weight', torch.randn(10, 8)),
                                        ('fc.bias', torch.zeros(10))]),
               os.path.join(bad, 'resnet_like.pth'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)

    inputs = {}
    for name, (shape, seed) in INPUTS.items():
        x = random_input(shape, seed).numpy().astype(np.float32)
        np.save(os.path.join(a.out, name), x)
        inputs[name] = x

    base = {}
    manifest = []
    for cfg, kind, fmt, dtype, bare, keys in CHECKPOINTS:
        c = CONFIGS[cfg]
        if (cfg, kind) not in base:
            base[(cfg, kind)] = make_checkpoint(c, kind)
        ck = base[(cfg, kind)]
        fname = file_name(cfg, kind, fmt, dtype, bare)
        path = os.path.join(a.out, fname)
        views = None
        if bare:
            src, _ = load_model_state(os.path.join(a.out, file_name(cfg, kind, 'zip', 'float32', False)))
            obj, views = make_views_state_dict(src)
        else:
            obj = {k: ck[k] for k in keys}
            obj['model'] = convert_state_dict(ck['model'], dtype)
        if fmt == 'legacy' and os.path.exists(path) and same_content(torch.load(path, map_location='cpu'), obj):
            # torch's legacy format names storages by memory address (str(storage._cdata)), so a
            # fresh save differs byte-wise on every run; keep an existing file with equal content.
            print('  (keeping existing %s: same content)' % fname)
        else:
            torch.save(obj, path, _use_new_zipfile_serialization=(fmt == 'zip'))

        sd, wrapper = load_model_state(path)
        assert wrapper == (not bare)
        inp = CONFIG_INPUT[cfg]
        y, unexpected, err = evaluate(sd, c, kind, inputs[inp])
        stem = fname[:-len('.pth')]
        exp_name = stem + '.expected.npy'
        np.save(os.path.join(a.out, exp_name), y)
        entry = collections.OrderedDict([
            ('file', fname),
            ('config', collections.OrderedDict(
                (k, c[k] if k != 'classes' or kind == 'finetuned' else 0)
                for k in ('name', 'embed', 'depth', 'heads', 'image', 'patch', 'mlp', 'classes'))),
            ('kind', kind),
            ('format', fmt),
            ('dtype', dtype),
            ('bare', bare),
            ('args_model', None if bare else ck['args'].model),
            ('top_level_keys', None if bare else list(keys)),
            ('optimizer_scope', None if bare or 'optimizer' not in keys else ck['optimizer_scope']),
            ('state_dict_keys', len(sd)),
            ('unexpected_keys', len(unexpected)),
            ('unexpected_prefixes', sorted({k.split('.')[0] for k in unexpected})),
            ('input', inp),
            ('expected', exp_name),
            ('expected_shape', list(y.shape)),
            ('resized', []),
        ])
        if views:
            entry['views'] = views
        for image, rinp in RESIZED.get(fname, []):
            ry, _, rerr = evaluate(sd, c, kind, inputs[rinp], image=image)
            rname = '%s.img%d.expected.npy' % (stem, image)
            np.save(os.path.join(a.out, rname), ry)
            entry['resized'].append(collections.OrderedDict(
                [('image', image), ('input', rinp), ('expected', rname), ('expected_shape', list(ry.shape))]))
            print('  resized %-40s img %d  numpy rel err %.2e' % (rname, image, rerr))
        manifest.append(entry)
        print('%-34s %8d bytes  out %s  numpy rel err %.2e  unexpected %d' % (
            fname, os.path.getsize(path), list(y.shape), err, len(unexpected)))

    write_bad(a.out)

    with open(os.path.join(a.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(a.out, n)) for n in os.listdir(a.out))
    print('total fixture bytes: %d' % total)


if __name__ == '__main__':
    main()
