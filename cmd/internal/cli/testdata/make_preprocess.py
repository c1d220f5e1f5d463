#!/usr/bin/python3
"""Expected `vitc preprocess` output: test_model.py's transform (PIL + torchvision) of a few
of runtime/imageio's test photographs, as float32 .npy. Run with Debian's python3-pil and
python3-torchvision: /usr/bin/python3 cmd/internal/cli/testdata/make_preprocess.py"""
import os

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, '..', '..', '..', '..', 'runtime', 'imageio', 'testdata')
files = ['flower_444.jpg', 'face_cmyk_adobe.jpg', 'chelsea_rgb.jpg']
size = 56  # small, so the expected tensors stay small; the transform is the same at any size
t = transforms.Compose([
    transforms.Resize(size + 32, interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(size),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
])
x = torch.stack([t(Image.open(os.path.join(src, f)).convert('RGB')) for f in files]).numpy().astype(np.float32)
np.save(os.path.join(here, 'preprocess56.npy'), x)
with open(os.path.join(here, 'preprocess56.txt'), 'w') as f:
    f.write('\n'.join(files) + '\n')
print(x.shape)

# PyTorch's top-5 for the same photos through the tiny finetuned fixture (42 px): what
# `vitc classify` must print.
import json
import sys
sys.path.insert(0, os.path.join(here, '..', '..', '..', '..', 'gen', 'testdata'))
from reference_vit import VisionTransformer  # noqa: E402

ck = torch.load(os.path.join(here, '..', '..', '..', '..', 'gen', 'testdata', 'fixtures', 'tiny_finetuned_zip_f32.pth'), map_location='cpu')
model = VisionTransformer(embed_dim=32, depth=2, num_heads=2, img_size=42, num_classes=1000)
model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
model.eval()
t42 = transforms.Compose([
    transforms.Resize(42 + 32, interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(42),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
])
with torch.inference_mode():
    logits = model(torch.stack([t42(Image.open(os.path.join(src, f)).convert('RGB')) for f in files]))
probs = torch.softmax(logits.double(), dim=1)
top = probs.topk(5, dim=1)
out = [{'file': f, 'top': [{'index': int(i), 'probability': float(p)} for p, i in zip(top.values[n], top.indices[n])]}
       for n, f in enumerate(files)]
with open(os.path.join(here, 'classify_tiny.json'), 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
