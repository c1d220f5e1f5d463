"""Reference Vision Transformer for the vitc test fixtures.

A self-contained re-implementation (no timm / MAE imports) of the encoder described in
/work/shared/specs/models.md: timm-style ViT as in MAE's models_vit with global_pool=False.
State-dict key names are exactly those of the humanlike-vits checkpoints:

    cls_token, pos_embed, patch_embed.proj.{weight,bias},
    blocks.{i}.norm1.{weight,bias}, blocks.{i}.attn.qkv.{weight,bias},
    blocks.{i}.attn.proj.{weight,bias}, blocks.{i}.norm2.{weight,bias},
    blocks.{i}.mlp.fc1.{weight,bias}, blocks.{i}.mlp.fc2.{weight,bias}, norm.{weight,bias}
    finetuned (num_classes > 0): head.0.{running_mean,running_var,num_batches_tracked}
                                 (BatchNorm1d(D, affine=False, eps=1e-6)), head.1.{weight,bias}
    optional MAE decoder (decoder_embed_dim > 0): mask_token, decoder_pos_embed,
        decoder_embed.*, decoder_blocks.{i}.* (same sub-keys as blocks), decoder_norm.*,
        decoder_pred.*

forward(x) with x float32 NCHW returns the class token after the final LayerNorm (num_classes
== 0) or the logits (num_classes > 0; call .eval() so that BatchNorm uses its running stats).

Only torch is needed (Debian's torch 1.13 under /usr/bin/python3 is what the fixtures use).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-6
BN_EPS = 1e-6


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        assert dim % num_heads == 0, (dim, num_heads)
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        B, N, C = x.shape
        # qkv output features are ordered q|k|v, then head, then dim within the head.
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, heads, N, head_dim)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)  # heads concatenated back to C
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=True)
        self.act = nn.GELU()  # exact erf GELU (approximate='none')
        self.fc2 = nn.Linear(hidden, dim, bias=True)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, mlp_hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        assert img_size % patch_size == 0, (img_size, patch_size)
        self.grid = img_size // patch_size
        self.num_patches = self.grid * self.grid
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, bias=True)

    def forward(self, x):
        # (B, D, g, g) -> (B, g*g, D): patches in row-major order.
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """Encoder (+ optional BN/Linear head, + optional unused MAE decoder weights)."""

    def __init__(self, embed_dim, depth, num_heads, img_size, patch_size=14, mlp_ratio=4,
                 num_classes=0, decoder_embed_dim=0, decoder_depth=0, decoder_num_heads=1,
                 in_chans=3):
        super().__init__()
        self.embed_dim = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.img_size = img_size
        self.patch_size = patch_size
        self.num_classes = num_classes
        mlp_hidden = int(embed_dim * mlp_ratio)

        # Registration order mirrors MAE (own parameters first in the state dict).
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=LN_EPS)

        self.has_decoder = decoder_embed_dim > 0
        if self.has_decoder:
            dd = decoder_embed_dim
            self.decoder_embed = nn.Linear(embed_dim, dd, bias=True)
            self.mask_token = nn.Parameter(torch.zeros(1, 1, dd))
            self.decoder_pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, dd))
            self.decoder_blocks = nn.ModuleList(
                [Block(dd, decoder_num_heads, int(dd * mlp_ratio)) for _ in range(decoder_depth)])
            self.decoder_norm = nn.LayerNorm(dd, eps=LN_EPS)
            self.decoder_pred = nn.Linear(dd, patch_size * patch_size * in_chans, bias=True)

        if num_classes > 0:
            self.head = nn.Sequential(
                nn.BatchNorm1d(embed_dim, affine=False, eps=BN_EPS),
                nn.Linear(embed_dim, num_classes, bias=True),
            )

    # ---- inference -------------------------------------------------------------------------
    def forward_features(self, x):
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 0]

    def forward(self, x):
        out = self.forward_features(x)
        if self.num_classes > 0:
            out = self.head(out)
        return out

    # ---- MAE pretraining loss (only used to take one real optimizer step) ----------------
    def patchify(self, imgs):
        p = self.patch_size
        B, C, H, W = imgs.shape
        h, w = H // p, W // p
        x = imgs.reshape(B, C, h, p, w, p)
        x = torch.einsum('nchpwq->nhwpqc', x)
        return x.reshape(B, h * w, p * p * C)

    def mae_loss(self, imgs, mask_ratio=0.75, generator=None, norm_pix_loss=True):
        assert self.has_decoder
        x = self.patch_embed(imgs) + self.pos_embed[:, 1:, :]
        B, L, D = x.shape
        len_keep = max(1, int(L * (1 - mask_ratio)))
        noise = torch.rand(B, L, generator=generator)
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x = torch.gather(x, 1, ids_keep.unsqueeze(-1).repeat(1, 1, D))
        mask = torch.ones(B, L)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(B, -1, -1)
        x = torch.cat((cls, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        # decoder
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(B, L + 1 - x.shape[1], 1)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(x_, 1, ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        x = torch.cat([x[:, :1, :], x_], dim=1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_norm(x)
        pred = self.decoder_pred(x)[:, 1:, :]
        target = self.patchify(imgs)
        if norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1.e-6) ** .5
        loss = ((pred - target) ** 2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum()


# ---- position embedding interpolation --------------------------------------------------------
def interpolate_pos_embed(pos_embed, new_grid):
    """Resize a (1, 1 + g*g, D) pos_embed to (1, 1 + new_grid**2, D).

    The class-token row is kept; the patch part is reshaped to (1, D, g, g), resized with
    F.interpolate(mode='bicubic', align_corners=False) and flattened back row-major.
    """
    assert pos_embed.dim() == 3 and pos_embed.shape[0] == 1, pos_embed.shape
    D = pos_embed.shape[-1]
    n = pos_embed.shape[1] - 1
    g = int(round(math.sqrt(n)))
    assert g * g == n, pos_embed.shape
    if g == new_grid:
        return pos_embed
    cls_row = pos_embed[:, :1, :]
    patch = pos_embed[:, 1:, :].reshape(1, g, g, D).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, size=(new_grid, new_grid), mode='bicubic', align_corners=False)
    patch = patch.permute(0, 2, 3, 1).reshape(1, new_grid * new_grid, D)
    return torch.cat((cls_row, patch), dim=1)


# ---- realistic random weights ------------------------------------------------------------------
TOKEN_PARAMS = ('cls_token', 'pos_embed', 'mask_token', 'decoder_pos_embed')


INIT_PROFILES = ('std02', 'fanin')


@torch.no_grad()
def init_random_(model, seed, num_batches_tracked=5005, profile='std02'):
    """Fill every parameter/buffer of `model` in place, deterministically from `seed`.

    profile 'std02' (MAE/timm-like scales):
        Linear/Conv weights N(0, 0.02) clipped at +-2 std (trunc-normal-ish);
        cls_token / pos_embed / mask_token / decoder_pos_embed N(0, 0.02).
    profile 'fanin' (more discriminative for narrow models, e.g. D=32):
        Linear/Conv weights N(0, 1/fan_in) clipped at +-2 std (so pre-activations are O(1): the
        GELU non-linearity, attention softmax and scale are really exercised);
        tokens N(0, 0.5) (comparable to MAE's sin-cos position embeddings), so that the position
        embedding, and its interpolation, matter.
    Both: biases N(0, 0.02); LayerNorm weight 1 + N(0, 0.1), bias N(0, 0.05); BatchNorm
    running_mean N(0, 0.1), running_var U(0.5, 1.5), num_batches_tracked an int64.
    No extra copies of the weights are made (fine for the 632 M-parameter ViT-H).
    """
    assert profile in INIT_PROFILES, profile
    token_std = 0.02 if profile == 'std02' else 0.5
    g = torch.Generator()
    g.manual_seed(int(seed))
    for mname, mod in model.named_modules():
        for pname, p in list(mod.named_parameters(recurse=False)) + list(mod.named_buffers(recurse=False)):
            if p is None:
                continue
            if isinstance(mod, nn.LayerNorm):
                if pname == 'weight':
                    p.normal_(1.0, 0.1, generator=g)
                else:
                    p.normal_(0.0, 0.05, generator=g)
            elif isinstance(mod, nn.BatchNorm1d):
                if pname == 'running_mean':
                    p.normal_(0.0, 0.1, generator=g)
                elif pname == 'running_var':
                    p.uniform_(0.5, 1.5, generator=g)
                elif pname == 'num_batches_tracked':
                    p.fill_(int(num_batches_tracked))
                else:
                    raise ValueError(mname + '.' + pname)
            elif isinstance(mod, (nn.Linear, nn.Conv2d)):
                if pname == 'weight':
                    std = 0.02 if profile == 'std02' else 1.0 / math.sqrt(p[0].numel())
                    p.normal_(0.0, std, generator=g)
                    p.clamp_(-2 * std, 2 * std)
                else:
                    p.normal_(0.0, 0.02, generator=g)
            elif pname in TOKEN_PARAMS:
                p.normal_(0.0, token_std, generator=g)
            else:
                raise ValueError('unhandled tensor %s.%s' % (mname, pname))
    return model


def random_input(shape, seed):
    """Normalised-image-like float32 input: N(0,1) clipped to the ImageNet-normalised range."""
    g = torch.Generator()
    g.manual_seed(int(seed))
    return torch.randn(*shape, generator=g).clamp_(-2.1, 2.6)


# ---- independent float64 numpy forward (cross-check of the torch module) ----------------------
def numpy_forward(sd, num_heads, patch_size, x):
    """Straight-line float64 numpy version of the forward pass, from a state dict.

    sd: mapping key -> tensor (any float dtype); x: (B, 3, H, W) array. Returns the same as
    VisionTransformer.forward (logits if head.1.weight is present, else the class embedding).
    """
    import numpy as np
    from math import erf

    def a(k):
        return sd[k].detach().double().cpu().numpy()

    def layernorm(t, w, b):
        mu = t.mean(-1, keepdims=True)
        var = ((t - mu) ** 2).mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(var + LN_EPS) * w + b

    verf = np.vectorize(erf)
    x = np.asarray(x, dtype=np.float64)
    B, C, H, W = x.shape
    p = patch_size
    gh, gw = H // p, W // p
    # patches row-major, each flattened (c, ky, kx) like the conv weight (D, C, p, p)
    patches = x.reshape(B, C, gh, p, gw, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, gh * gw, C * p * p)
    wpe = a('patch_embed.proj.weight')
    D = wpe.shape[0]
    tok = patches @ wpe.reshape(D, -1).T + a('patch_embed.proj.bias')
    cls = np.broadcast_to(a('cls_token'), (B, 1, D))
    t = np.concatenate([cls, tok], axis=1) + a('pos_embed')
    N = t.shape[1]
    hd = D // num_heads
    i = 0
    while 'blocks.%d.norm1.weight' % i in sd:
        pre = 'blocks.%d.' % i
        h = layernorm(t, a(pre + 'norm1.weight'), a(pre + 'norm1.bias'))
        qkv = h @ a(pre + 'attn.qkv.weight').T + a(pre + 'attn.qkv.bias')  # (B, N, 3D)
        qkv = qkv.reshape(B, N, 3, num_heads, hd)
        out = np.empty((B, N, num_heads, hd))
        for hh in range(num_heads):
            q, k, v = qkv[:, :, 0, hh], qkv[:, :, 1, hh], qkv[:, :, 2, hh]
            s = q @ k.transpose(0, 2, 1) * hd ** -0.5
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, :, hh] = s @ v
        t = t + out.reshape(B, N, D) @ a(pre + 'attn.proj.weight').T + a(pre + 'attn.proj.bias')
        h = layernorm(t, a(pre + 'norm2.weight'), a(pre + 'norm2.bias'))
        h = h @ a(pre + 'mlp.fc1.weight').T + a(pre + 'mlp.fc1.bias')
        h = 0.5 * h * (1.0 + verf(h / np.sqrt(2.0)))
        t = t + h @ a(pre + 'mlp.fc2.weight').T + a(pre + 'mlp.fc2.bias')
        i += 1
    out = layernorm(t, a('norm.weight'), a('norm.bias'))[:, 0]
    if 'head.1.weight' in sd:
        out = (out - a('head.0.running_mean')) / np.sqrt(a('head.0.running_var') + BN_EPS)
        out = out @ a('head.1.weight').T + a('head.1.bias')
    return out
