#!/usr/bin/python3
"""Builds the ImageFolder val/ from a few of runtime/imageio's test photographs and writes what
`vitc eval` must give on it (expected.json): test_model.py's pipeline (torchvision ImageFolder,
its transform, DeiT's accuracy and MetricLogger averages) through the tiny finetuned fixture
at 42 px, the folders' WordNet ids mapped to ImageNet class indices.

The folder names are chosen from the model's own top-5 so that the random-weight model scores
some top-1 and top-5 hits and some misses. Run with Debian's python3-torch/torchvision/PIL:
/usr/bin/python3 cmd/internal/cli/testdata/eval/make.py"""
import json
import os
import shutil
import sys

import torch
from PIL import Image
from torchvision import datasets, transforms

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, '..', '..', '..', '..', '..')
src = os.path.join(root, 'runtime', 'imageio', 'testdata')
sys.path.insert(0, os.path.join(root, 'gen', 'testdata'))
from reference_vit import VisionTransformer  # noqa: E402

wnids = [l.split('\t')[1] for l in open(os.path.join(root, 'runtime', 'labels', 'imagenet_classes.tsv')).read().splitlines()[1:]]
size = 42
t = transforms.Compose([
    transforms.Resize(size + 32, interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(size),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
])
ck = torch.load(os.path.join(root, 'gen', 'testdata', 'fixtures', 'tiny_finetuned_zip_f32.pth'), map_location='cpu')
model = VisionTransformer(embed_dim=32, depth=2, num_heads=2, img_size=size, num_classes=1000)
model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
model.eval()


def top5(f):
    with torch.inference_mode():
        return model(t(Image.open(os.path.join(src, f)).convert('RGB'))[None]).topk(5).indices[0].tolist()


# (photo, name in the folder), the first photo of a group picks the folder: its class of rank
# `rank` in the model's top-5, or (None) a class outside the top-5 of the whole group.
groups = [
    (0, [('chelsea_rgb.jpg', 'chelsea_rgb.jpg'), ('coffee_420.jpg', 'a/COFFEE.JPG')]),
    (2, [('flower_444.jpg', 'flower_444.jpg'), ('hopper_420.jpg', 'hopper_420.jpg')]),
    (4, [('camera_grey.jpg', 'camera_grey.jpg'), ('face_cmyk_adobe.jpg', 'face_cmyk_adobe.jpg')]),
    (None, [('coffee_p.png', 'coffee_p.png'), ('china_444.jpg', 'china_444.jpg')]),
]
val = os.path.join(here, 'val')
shutil.rmtree(val, ignore_errors=True)
used = set()
for rank, files in groups:
    if rank is None:
        near = set(c for f, _ in files for c in top5(f))
        cls = next(c for c in range(1000) if c not in near and c not in used)
    else:
        cands = top5(files[0][0])[rank:] + top5(files[0][0])[:rank]
        cls = next(c for c in cands if c not in used)
    used.add(cls)
    for f, name in files:
        dst = os.path.join(val, wnids[cls], name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(src, f), dst)
    if rank is None:
        with open(os.path.join(val, wnids[cls], 'notes.txt'), 'w') as fh:
            fh.write('not an image: ImageFolder leaves it out\n')

# test_model.py: ImageFolder, a DataLoader, DeiT's accuracy() and MetricLogger's global_avg.
ds = datasets.ImageFolder(val, transform=t)
to_imagenet = torch.tensor([wnids.index(c) for c in ds.classes])
loader = torch.utils.data.DataLoader(ds, batch_size=3, shuffle=False)
tot1 = tot5 = count = 0.0
files = []
i = 0
with torch.inference_mode():
    for x, y in loader:
        y = to_imagenet[y]
        out = model(x)
        top = out.topk(5, 1, True, True).indices
        correct = top.t().eq(y.reshape(1, -1).expand_as(top.t()))
        n = x.shape[0]
        acc1 = correct[:1].reshape(-1).float().sum(0) * 100. / n
        acc5 = correct[:5].reshape(-1).float().sum(0) * 100. / n
        tot1 += acc1.item() * n
        tot5 += acc5.item() * n
        count += n
        for j in range(n):
            path = os.path.relpath(ds.samples[i][0], val).replace(os.sep, '/')
            files.append({'path': path, 'target': int(y[j]), 'top5': top[j].tolist()})
            i += 1
summary = '* Acc@1 {:.3f} Acc@5 {:.3f}'.format(tot1 / count, tot5 / count)
with open(os.path.join(here, 'expected.json'), 'w') as fh:
    json.dump({'files': files, 'summary': summary}, fh, indent=1)
    fh.write('\n')
print(summary)
