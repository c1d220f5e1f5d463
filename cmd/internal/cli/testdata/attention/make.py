#!/usr/bin/python3
"""Expected class-token attention of the last block, for runtime/vit's LastAttention test.

gen/testdata/reference_vit.py has no get_last_selfattention, so this computes it from the
model's own modules, as MAE/DINO's get_last_selfattention(x)[:, :, 0, :] does: the blocks up
to the last, then the last block's norm1, qkv and softmax(q kᵀ · scale).

Run with Debian's python3-torch: /usr/bin/python3 cmd/internal/cli/testdata/attention/make.py
It writes tiny_finetuned_zip_f32.attention.npy (batch × heads × tokens, float32) next to itself,
for gen/testdata/fixtures/tiny_finetuned_zip_f32.pth on gen/testdata/fixtures/tiny_input.npy.
"""
import collections
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
testdata = os.path.join(here, '..', '..', '..', '..', '..', 'gen', 'testdata')
fixtures = os.path.join(testdata, 'fixtures')
sys.path.insert(0, testdata)
from reference_vit import VisionTransformer  # noqa: E402

# The tiny fixture configuration (gen/testdata/make_fixtures.py's CONFIGS['tiny']).
EMBED, DEPTH, HEADS, IMAGE, PATCH, MLP, CLASSES = 32, 2, 2, 42, 14, 128, 1000


def last_selfattention(model, x):
    """(B, heads, N, N) attention probabilities of the last block."""
    t = model.patch_embed(x)
    cls = model.cls_token.expand(t.shape[0], -1, -1)
    t = torch.cat((cls, t), dim=1) + model.pos_embed
    for blk in model.blocks[:-1]:
        t = blk(t)
    last = model.blocks[-1]
    attn = last.attn
    B, N, C = t.shape
    qkv = attn.qkv(last.norm1(t)).reshape(B, N, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    q, k = qkv[0], qkv[1]
    return ((q @ k.transpose(-2, -1)) * attn.scale).softmax(dim=-1)


def main():
    obj = torch.load(os.path.join(fixtures, 'tiny_finetuned_zip_f32.pth'), map_location='cpu')
    sd = obj['model'] if isinstance(obj, dict) and 'model' in obj else obj
    sd = collections.OrderedDict((k, v.detach().float() if v.is_floating_point() else v) for k, v in sd.items())
    model = VisionTransformer(embed_dim=EMBED, depth=DEPTH, num_heads=HEADS, img_size=IMAGE,
                              patch_size=PATCH, mlp_ratio=MLP / EMBED, num_classes=CLASSES)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(fixtures, 'tiny_input.npy')))
    with torch.inference_mode():
        a = last_selfattention(model, x)
        # Cross-check the hand-run blocks against the model's own forward: the last block's
        # output computed from this attention must give forward_features' class token.
        t = model.patch_embed(x)
        t = torch.cat((model.cls_token.expand(t.shape[0], -1, -1), t), dim=1) + model.pos_embed
        for blk in model.blocks[:-1]:
            t = blk(t)
        last = model.blocks[-1]
        B, N, C = t.shape
        v = last.attn.qkv(last.norm1(t)).reshape(B, N, 3, HEADS, C // HEADS).permute(2, 0, 3, 1, 4)[2]
        t = t + last.attn.proj((a @ v).transpose(1, 2).reshape(B, N, C))
        t = t + last.mlp(last.norm2(t))
        err = (model.norm(t)[:, 0] - model.forward_features(x)).abs().max().item()
        assert err < 1e-5, err
    rows = a[:, :, 0, :].float().numpy().astype(np.float32)
    assert rows.shape == (2, HEADS, 1 + (IMAGE // PATCH) ** 2), rows.shape
    assert np.allclose(rows.sum(-1), 1, atol=1e-5)
    np.save(os.path.join(here, 'tiny_finetuned_zip_f32.attention.npy'), rows)
    print(rows.shape, 'min %.4g max %.4g' % (rows.min(), rows.max()))


if __name__ == '__main__':
    main()
