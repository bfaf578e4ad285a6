"""The published modules the bundled specs mirror, built in PyTorch with random
weights, and their weights under the generated layers' names.

- timm 1.0.31's attention factory (timm/layers/create_attn.py), imported without
  timm's package ``__init__``: that imports timm's data pipeline, which needs
  torchvision, and PyPI's torchvision does not load beside the CPU build of torch this
  project pins. The attention modules use none of it (``cbam.py`` and ``norm_act.py``
  import one torchvision class, FrozenBatchNorm2d, that they never use; a stand-in is
  given when torchvision is absent).
- segmentation_models_pytorch 0.6.0's SCSEModule, its ``base/modules.py`` imported by
  path (the package imports timm and torchvision too; the module needs only torch).
- For BAM, scSE's authors' module and SimAM, PyTorch transcriptions written here from
  their papers and their authors' published code, whose structure they follow layer by
  layer: BAM's ``MODELS/bam.py`` (Jongchan/attention-module) does not run as published
  (``gate_activation`` is undefined in ChannelGate), scSE's
  (ai-med/squeeze_and_excitation) does not import (``torch.nn.Functional``), and
  SimAM's (ZjjConan/SimAM) is no package.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import torch
from torch import nn


def _module(name: str, path: str | None = None) -> types.ModuleType:
    """An empty module (a package when given its ``path``), with a spec."""
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=bool(path))
    if path:
        module.__path__ = [path]
    return module


def _bare_package(name: str, path: str) -> None:
    if name not in sys.modules:
        sys.modules[name] = _module(name, path)


def timm_layers(module: str):
    """``timm.layers.<module>`` without running timm's or timm.layers' ``__init__``."""
    if "timm" in sys.modules:
        root = sys.modules["timm"].__path__[0]
    else:
        root = importlib.util.find_spec("timm").submodule_search_locations[0]
    _bare_package("timm", root)
    _bare_package("timm.layers", str(Path(root) / "layers"))
    if "torchvision" not in sys.modules and not importlib.util.find_spec("torchvision"):
        stand_in = _module("torchvision.ops.misc")
        stand_in.FrozenBatchNorm2d = type("FrozenBatchNorm2d", (nn.Module,), {})
        for name in ("torchvision", "torchvision.ops"):
            sys.modules[name] = _module(name, "")
        sys.modules["torchvision.ops.misc"] = stand_in
    return importlib.import_module(f"timm.layers.{module}")


def timm_version() -> str:
    from importlib.metadata import version

    return version("timm")


def smp_modules():
    """segmentation_models_pytorch's ``base/modules.py``, loaded by path."""
    root = importlib.util.find_spec(
        "segmentation_models_pytorch"
    ).submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location(
        "_smp_base_modules", Path(root) / "base" / "modules.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------- transcriptions


class BAM(nn.Module):
    """BAM (Park et al. 2018) as its authors' MODELS/bam.py builds it: a channel gate
    of Linear C -> C/r, BatchNorm1d, ReLU, Linear -> C on the average; a spatial gate
    of a 1x1 conv C -> C/r, BatchNorm2d, ReLU, two 3x3 convs of dilation 4 (padding 4)
    each with BatchNorm2d and ReLU, a 1x1 conv to one map; x (1 + sigmoid(Mc + Ms)),
    the paper's, or x (1 + sigmoid(Mc Ms)), the code's (``product``)."""

    def __init__(self, channels: int, reduction: int = 16, product: bool = False):
        super().__init__()
        hidden = channels // reduction
        self.product = product
        self.fc = nn.Linear(channels, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.fc_final = nn.Linear(hidden, channels)
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.bn_reduce = nn.BatchNorm2d(hidden)
        self.dilated = nn.ModuleList(
            nn.Conv2d(hidden, hidden, 3, padding=4, dilation=4) for _ in range(2)
        )
        self.bn_dilated = nn.ModuleList(nn.BatchNorm2d(hidden) for _ in range(2))
        self.final = nn.Conv2d(hidden, 1, 1)

    def forward(self, x):
        mc = self.fc_final(torch.relu(self.bn(self.fc(x.mean((2, 3))))))
        mc = mc[:, :, None, None]
        ms = torch.relu(self.bn_reduce(self.reduce(x)))
        for conv, bn in zip(self.dilated, self.bn_dilated, strict=True):
            ms = torch.relu(bn(conv(ms)))
        ms = self.final(ms)
        logits = mc * ms if self.product else mc + ms
        return x * (1 + torch.sigmoid(logits))


class SCSE(nn.Module):
    """scSE (Roy et al. 2018) as its authors' ChannelSpatialSELayer builds it: cSE,
    Linear C -> C // 2 with bias, ReLU, Linear -> C, sigmoid, on the mean; sSE, a 1x1
    conv C -> 1 with bias and a sigmoid; the element-wise maximum of x cSE and x sSE."""

    def __init__(self, channels: int, reduction: int = 2):
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)
        self.conv = nn.Conv2d(channels, 1, 1)

    def forward(self, x):
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))
        channel = x * gate[:, :, None, None]
        spatial = x * torch.sigmoid(self.conv(x))
        return torch.max(channel, spatial)


class SimAM(nn.Module):
    """SimAM (Yang et al. 2021) as its authors' forward computes it, with n = H W - 1."""

    def __init__(self, channels: int, e_lambda: float = 1e-4):
        super().__init__()
        self.e_lambda = e_lambda

    def forward(self, x):
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=(2, 3), keepdim=True)).pow(2)
        y = d / (4 * (d.sum(dim=(2, 3), keepdim=True) / n + self.e_lambda)) + 0.5
        return x * torch.sigmoid(y)


# ------------------------------------------------------------------- the weights


def randomized(module: nn.Module, seed: int) -> nn.Module:
    """Every parameter and batch-norm statistic drawn at random (a zero-initialised
    layer, as timm's GCA has, would hide its term); evaluation mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            elif tensor.is_floating_point():
                scale = (
                    1.0 / max(tensor[0].numel(), 1) ** 0.5 if tensor.ndim > 1 else 0.5
                )
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * scale)
    return module.eval()


def _numpy(module: nn.Module) -> dict[str, np.ndarray]:
    return {
        k: v.detach().numpy().astype(np.float64) for k, v in module.state_dict().items()
    }


def dense(w):  # a 1x1 Conv2d (out, in, 1, 1) or a Linear (out, in) -> (in, out)
    return w.reshape(w.shape[0], w.shape[1]).T


def conv2d(w):  # (out, in, kh, kw) -> (kh, kw, in, out)
    return w.transpose(2, 3, 1, 0)


def conv1d(w):  # (out, in, k) -> (k, in, out)
    return w.transpose(2, 1, 0)


def depthwise(w):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    return w.transpose(2, 3, 0, 1)


def keras_weights(torch_weights: dict, names: dict) -> dict[str, np.ndarray]:
    """The generated layer's weights, ``names`` mapping each Keras weight to (torch
    weight, conversion)."""
    out = {}
    for keras_name, (torch_name, convert) in names.items():
        out[keras_name] = convert(torch_weights[torch_name])
    return out


def same(w):
    return w


def _layer(prefix: str, torch_prefix: str, convert, bias: bool = True) -> dict:
    names = {f"{prefix}/kernel": (f"{torch_prefix}.weight", convert)}
    if bias:
        names[f"{prefix}/bias"] = (f"{torch_prefix}.bias", same)
    return names


def _batch_norm(prefix: str, torch_prefix: str) -> dict:
    return {
        f"{prefix}/gamma": (f"{torch_prefix}.weight", same),
        f"{prefix}/beta": (f"{torch_prefix}.bias", same),
        f"{prefix}/moving_mean": (f"{torch_prefix}.running_mean", same),
        f"{prefix}/moving_variance": (f"{torch_prefix}.running_var", same),
    }


def _mlp(prefix: str, first: str, second: str, bias: bool = True) -> dict:
    return {
        **_layer(f"{prefix}_hidden", first, dense, bias),
        **_layer(f"{prefix}_out", second, dense, bias),
    }


def _gc(prefix: str, torch_prefix: str) -> dict:
    return {
        **_mlp(prefix, f"{torch_prefix}.fc1", f"{torch_prefix}.fc2"),
        f"{prefix}_norm/gamma": (f"{torch_prefix}.norm.weight", same),
        f"{prefix}_norm/beta": (f"{torch_prefix}.norm.bias", same),
    }


def _strips(bias: bool, norm: str | None) -> dict:
    names = {}
    for axis, short in (("height", "h"), ("width", "w")):
        names.update(
            _layer(f"coordinate_{axis}_conv", f"conv_{short}", depthwise, bias)
        )
        if norm == "group":
            names[f"coordinate_{axis}_norm_gamma"] = (f"norm_{short}.weight", same)
            names[f"coordinate_{axis}_norm_beta"] = (f"norm_{short}.bias", same)
    return names


def _ge(channels: int, extent: int):
    """timm 1.0.31's GatherExcite cannot build its default MLP (its ConvMlp call
    passes a dict's keys as positional arguments: 'multiple values for argument
    act_layer'); it is built without, and given timm's ConvMlp as timm means to."""
    ge = timm_layers("gather_excite")
    module = ge.GatherExcite(channels, extent=extent, use_mlp=False)
    rd = timm_layers("helpers").make_divisible(channels / 16, 1, round_limit=0.0)
    module.mlp = timm_layers("mlp").ConvMlp(channels, rd, act_layer=nn.ReLU)
    return module


#: stem -> (what is checked: the published module, built for C channels; the Keras
#: names of its weights; spec keys changed from the bundled spec's).
PUBLISHED = {
    "se": (
        "timm SEModule ('se')",
        lambda c: timm_layers("squeeze_excite").SEModule(c),
        _mlp("channel", "fc1", "fc2"),
        {},
    ),
    "ese": (
        "timm EffectiveSEModule ('ese')",
        lambda c: timm_layers("squeeze_excite").EffectiveSEModule(c),
        _layer("channel_out", "fc", dense),
        {},
    ),
    "eca": (
        "timm EcaModule ('eca')",
        lambda c: timm_layers("eca").EcaModule(c),
        _layer("channel_conv1d", "conv", conv1d, bias=False),
        {},
    ),
    "timm_ecam": (
        "timm EcaModule(use_mlp=True) ('ecam')",
        lambda c: timm_layers("eca").EcaModule(c, use_mlp=True),
        {
            **_layer("channel_hidden", "conv", conv1d),
            **_layer("channel_conv1d", "conv2", conv1d),
        },
        {},
    ),
    "timm_ceca": (
        "timm CecaModule ('ceca')",
        lambda c: timm_layers("eca").CecaModule(c),
        _layer("channel_conv1d", "conv", conv1d, bias=False),
        {},
    ),
    "timm_ge": (
        "timm GatherExcite ('ge', extent 0)",
        lambda c: _ge(c, 0),
        _mlp("channel", "mlp.fc1", "mlp.fc2"),
        {},
    ),
    "timm_ge_2": (
        "timm GatherExcite(extent=2)",
        lambda c: _ge(c, 2),
        _mlp("channel", "mlp.fc1", "mlp.fc2"),
        {"stem": "timm_ge8", "channel.extent": 2},
    ),
    "timm_ge_4": (
        "timm GatherExcite(extent=4)",
        lambda c: _ge(c, 4),
        _mlp("channel", "mlp.fc1", "mlp.fc2"),
        {"stem": "timm_ge8", "channel.extent": 4},
    ),
    "timm_ge8": (
        "timm GatherExcite(extent=8)",
        lambda c: _ge(c, 8),
        _mlp("channel", "mlp.fc1", "mlp.fc2"),
        {},
    ),
    "timm_gc": (
        "timm GlobalContext ('gc')",
        lambda c: timm_layers("global_context").GlobalContext(c),
        {
            **_layer("channel_pool0_score", "conv_attn", dense),
            **_gc("channel", "mlp_scale"),
        },
        {},
    ),
    "timm_gca": (
        "timm GlobalContext(fuse_add=True, fuse_scale=False) ('gca')",
        lambda c: timm_layers("global_context").GlobalContext(
            c, fuse_add=True, fuse_scale=False
        ),
        {
            **_layer("channel_pool0_score", "conv_attn", dense),
            **_gc("channel", "mlp_add"),
        },
        {},
    ),
    "timm_gc_both": (
        "timm GlobalContext(fuse_add=True, fuse_scale=True)",
        lambda c: timm_layers("global_context").GlobalContext(c, fuse_add=True),
        {
            **_layer("channel_pool0_score", "conv_attn", dense),
            **_gc("channel", "mlp_scale"),
            **_gc("channel_add", "mlp_add"),
        },
        {"stem": "timm_gc", "channel.apply": "multiply_add"},
    ),
    "timm_cbam": (
        "timm CbamModule ('cbam')",
        lambda c: timm_layers("cbam").CbamModule(c),
        {
            **_mlp("channel", "channel.fc1", "channel.fc2", bias=False),
            **_layer("spatial_conv", "spatial.conv.conv", conv2d, bias=False),
            **_batch_norm("spatial_norm", "spatial.conv.bn"),
        },
        {},
    ),
    "light_cbam": (
        "timm LightCbamModule ('lcbam')",
        lambda c: timm_layers("cbam").LightCbamModule(c),
        {
            **_mlp("channel", "channel.fc1", "channel.fc2", bias=False),
            **_layer("spatial_conv", "spatial.conv.conv", conv2d, bias=False),
            **_batch_norm("spatial_norm", "spatial.conv.bn"),
        },
        {},
    ),
    "timm_coord": (
        "timm CoordAttn ('coord'; Hou et al. 2021)",
        lambda c: timm_layers("coord_attn").CoordAttn(c),
        {
            **_layer("coordinate_hidden", "conv1", dense, bias=False),
            **_batch_norm("coordinate_norm", "bn1"),
            **_layer("coordinate_height", "conv_h", dense, bias=False),
            **_layer("coordinate_width", "conv_w", dense, bias=False),
        },
        {},
    ),
    "timm_scoord": (
        "timm SimpleCoordAttn ('scoord')",
        lambda c: timm_layers("coord_attn").SimpleCoordAttn(c),
        {
            **_layer("coordinate_hidden", "fc1", dense),
            **_layer("coordinate_height", "fc_h", dense),
            **_layer("coordinate_width", "fc_w", dense),
        },
        {},
    ),
    "timm_ela": (
        "timm EfficientLocalAttn ('ela')",
        lambda c: timm_layers("coord_attn").EfficientLocalAttn(c),
        _strips(bias=False, norm="group"),
        {},
    ),
    "timm_strip": (
        "timm StripAttn ('strip')",
        lambda c: timm_layers("coord_attn").StripAttn(c),
        _strips(bias=False, norm=None),
        {},
    ),
    "bam": (
        "BAM, the paper's fusion (transcription of the authors' architecture)",
        lambda c: BAM(c),
        {
            **_layer("channel_hidden", "fc", dense),
            **_batch_norm("channel_norm", "bn"),
            **_layer("channel_out", "fc_final", dense),
            **_layer("spatial_reduce", "reduce", conv2d),
            **_batch_norm("spatial_reduce_norm", "bn_reduce"),
            **_layer("spatial_conv1", "dilated.0", conv2d),
            **_batch_norm("spatial_norm1", "bn_dilated.0"),
            **_layer("spatial_conv2", "dilated.1", conv2d),
            **_batch_norm("spatial_norm2", "bn_dilated.1"),
            **_layer("spatial_out", "final", conv2d),
        },
        {},
    ),
    "scse": (
        "scSE, the authors' maximum (transcription of ChannelSpatialSELayer)",
        lambda c: SCSE(c),
        {
            **_mlp("channel", "fc1", "fc2"),
            **_layer("spatial_conv", "conv", conv2d),
        },
        {},
    ),
    "scse_add": (
        "segmentation_models_pytorch SCSEModule(reduction=2), the sum",
        lambda c: smp_modules().SCSEModule(c, reduction=2),
        {
            **_mlp("channel", "cSE.1", "cSE.3"),
            **_layer("spatial_conv", "sSE.0", conv2d),
        },
        {"stem": "scse", "fusion": "add"},
    ),
    "simam": (
        "SimAM (transcription of the authors' forward)",
        lambda c: SimAM(c),
        {},
        {},
    ),
}
PUBLISHED["bam_product"] = (
    "BAM, the authors' code's product (transcription)",
    lambda c: BAM(c, product=True),
    PUBLISHED["bam"][2],
    {"stem": "bam", "fusion": "bam_product"},
)
